import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import { encodeMetricsResponse, encodeRpcStatus, encodeTraceResponse } from "../src/index.ts";
import { fields } from "./protobuf-fields.ts";

describe("encodeTraceResponse and encodeMetricsResponse", () => {
  it("answer full success with an empty response", () => {
    assert.equal(encodeTraceResponse({ rejectedSpans: 0 }, "protobuf").length, 0);
    assert.deepEqual(ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse({ rejectedSpans: 0 }, "protobuf")), {});
    assert.equal(encodeTraceResponse({ rejectedSpans: 0, errorMessage: undefined }, "json").toString(), "{}");
  });

  it("encode partial success as the OTel exporters decode it", () => {
    const message = "2 spans rejected: span 0 of scope 0 of resource 0: trace_id is 12 bytes, not 16; ünï";
    assert.deepEqual(ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse({ rejectedSpans: 2, errorMessage: message }, "protobuf")), {
      partialSuccess: { rejectedSpans: 2, errorMessage: message },
    });
    assert.deepEqual(JsonTraceSerializer.deserializeResponse(encodeTraceResponse({ rejectedSpans: 2, errorMessage: message }, "json")), {
      partialSuccess: { rejectedSpans: "2", errorMessage: message },
    });
    assert.deepEqual(ProtobufMetricsSerializer.deserializeResponse(encodeMetricsResponse({ rejectedDataPoints: 300, errorMessage: "m" }, "protobuf")), {
      partialSuccess: { rejectedDataPoints: 300, errorMessage: "m" },
    });
    assert.deepEqual(JsonMetricsSerializer.deserializeResponse(encodeMetricsResponse({ rejectedDataPoints: 3 }, "json")), {
      partialSuccess: { rejectedDataPoints: "3" },
    });
  });

  it("carry a warning with nothing rejected, and refuse a negative count", () => {
    assert.deepEqual(ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse({ rejectedSpans: 0, errorMessage: "slow down" }, "protobuf")), {
      partialSuccess: { errorMessage: "slow down" },
    });
    assert.throws(() => encodeTraceResponse({ rejectedSpans: -1 }, "protobuf"), RangeError);
  });
});

describe("encodeRpcStatus", () => {
  it("encodes google.rpc.Status in protobuf and JSON", () => {
    const status = fields(encodeRpcStatus(3, "malformed protobuf: truncated varint at byte 12"));
    assert.deepEqual(
      status.map((f) => [f.number, f.wireType]),
      [[1, 0], [2, 2]],
    );
    assert.equal(status[0]!.varint, 3n);
    assert.equal(status[1]!.payload.toString(), "malformed protobuf: truncated varint at byte 12");
    assert.deepEqual(JSON.parse(encodeRpcStatus(14, "busy", "json").toString()), { code: 14, message: "busy" });
    // int32 on the wire: a negative code sign-extends to ten bytes.
    assert.equal(BigInt.asIntN(64, fields(encodeRpcStatus(-2, ""))[0]!.varint), -2n);
  });
});
