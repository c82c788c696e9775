import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spanPartition } from "@meshloop/contracts";
import { resourceFromAttributes } from "@opentelemetry/resources";
import fc from "fast-check";
import { splitTraceRequest } from "../src/index.ts";
import type { SplitResult } from "../src/index.ts";
import { handSpan, hexId, RESOURCES, sdkSpans, toProtobuf } from "./fixtures.ts";
import { attributes, decodeRequest, fields, fixed64Field, ld, payload, stringAttribute, varintField } from "./protobuf-fields.ts";

interface Expected {
  readonly partition: number;
  readonly resource: Buffer | undefined;
  readonly resourceHeader: string;
  readonly scopeHeader: string;
  seen: number;
}

/** Every span of `input` by its bytes, with the partition, resource and scope it must land under. */
function expectations(input: Buffer, partitionCount: number): Map<string, Expected> {
  const expected = new Map<string, Expected>();
  for (const rs of decodeRequest(input)) {
    for (const ss of rs.scopes) {
      for (const span of ss.spans) {
        const traceId = payload(span, 1)!;
        expected.set(span.toString("hex"), {
          partition: spanPartition(traceId, partitionCount),
          resource: rs.resource,
          resourceHeader: Buffer.concat(rs.header).toString("hex"),
          scopeHeader: Buffer.concat(ss.header).toString("hex"),
          seen: 0,
        });
      }
    }
  }
  return expected;
}

/** Checks the invariants of a split and returns how many spans the messages hold. */
function checkSplit(input: Buffer, result: SplitResult, partitionCount: number, maxMessageBytes: number): number {
  const expected = expectations(input, partitionCount);
  let spans = 0;
  for (const message of result.messages) {
    assert.ok(message.value.length <= maxMessageBytes, `a message of ${message.value.length} bytes > ${maxMessageBytes}`);
    let inMessage = 0;
    for (const rs of decodeRequest(message.value)) {
      assert.ok(rs.scopes.length > 0, "no empty ResourceSpans");
      for (const ss of rs.scopes) {
        assert.ok(ss.spans.length > 0, "no empty ScopeSpans");
        for (const span of ss.spans) {
          const want = expected.get(span.toString("hex"));
          assert.ok(want, "an output span is byte-identical to an input span");
          want.seen++;
          assert.equal(message.partition, want.partition);
          assert.equal(Buffer.concat(ss.header).toString("hex"), want.scopeHeader);
          const had = attributes(want.resource);
          if (had.has("service.name")) {
            assert.equal(Buffer.concat(rs.header).toString("hex"), want.resourceHeader);
          } else {
            // The original attributes, in order, then service.name; nothing else changes.
            const got = attributes(rs.resource);
            assert.deepEqual([...got], [...had, ["service.name", "unknown_service"]]);
          }
          inMessage++;
        }
      }
    }
    assert.equal(message.spans, inMessage);
    spans += inMessage;
  }
  for (const want of expected.values()) assert.ok(want.seen <= 1, "no span is written twice");
  return spans;
}

describe("splitTraceRequest", () => {
  const input = toProtobuf(sdkSpans(20));
  const total = 3 * 2 * 20;

  it("puts every span once, byte for byte, in the partition spanPartition picks, under its resource and scope", () => {
    for (const partitionCount of [1, 2, 7, 12, 64]) {
      const result = splitTraceRequest(input, { partitionCount, maxMessageBytes: 1 << 20 });
      assert.equal(result.acceptedSpans, total);
      assert.equal(result.rejectedSpans, 0);
      assert.equal(result.errorMessage, undefined);
      assert.equal(checkSplit(input, result, partitionCount, 1 << 20), total);
      const partitions = result.messages.map((m) => m.partition);
      assert.deepEqual(partitions, [...new Set(partitions)].sort((a, b) => a - b), "one message per partition, ascending");
    }
  });

  it("returns the request unchanged when there is one partition and nothing to fix", () => {
    const named = toProtobuf(sdkSpans(10, 2, RESOURCES.slice(0, 2)));
    const result = splitTraceRequest(named, { partitionCount: 1, maxMessageBytes: 1 << 20 });
    assert.equal(result.messages.length, 1);
    assert.ok(result.messages[0]!.value.equals(named));
  });

  it("adds service.name = unknown_service (or unknown_service:<executable>) to resources without one", () => {
    const spans = [
      handSpan({ resource: resourceFromAttributes({ "host.name": "h" }) }),
      handSpan({ resource: resourceFromAttributes({ "process.executable.name": "java" }), spanId: hexId(2, 8) }),
    ];
    const result = splitTraceRequest(toProtobuf(spans), { partitionCount: 1, maxMessageBytes: 1 << 20 });
    const names = decodeRequest(result.messages[0]!.value).map((rs) => attributes(rs.resource).get("service.name"));
    assert.deepEqual(names, ["unknown_service", "unknown_service:java"]);
    const custom = splitTraceRequest(toProtobuf(spans.slice(0, 1)), {
      partitionCount: 1,
      maxMessageBytes: 1 << 20,
      defaultServiceName: "unnamed",
    });
    assert.equal(attributes(decodeRequest(custom.messages[0]!.value)[0]!.resource).get("service.name"), "unnamed");
  });

  it("adds a Resource when the ResourceSpans has none", () => {
    const span = fields(decodeRequest(toProtobuf([handSpan()]))[0]!.scopes[0]!.spans[0]!).map((f) => f.raw);
    const body = ld(1, ld(2, ld(1, ld(1, "scope")), ld(2, ...span)));
    const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: 1 << 20 });
    assert.equal(attributes(decodeRequest(result.messages[0]!.value)[0]!.resource).get("service.name"), "unknown_service");
  });

  it("keeps unknown fields of resources, scopes and spans, and the schema urls", () => {
    const span = Buffer.concat([
      ld(1, Buffer.alloc(16, 7)),
      ld(2, Buffer.alloc(8, 9)),
      ld(5, "op"),
      fixed64Field(7, 1n),
      fixed64Field(8, 2n),
      ld(200, "future span field"),
    ]);
    const scopeSpans = ld(2, ld(1, ld(1, "lib")), varintField(99, 5), ld(2, span), ld(3, "https://schema/scope"), ld(98, "x"));
    const body = ld(1, ld(1, stringAttribute("service.name", "s")), scopeSpans, ld(3, "https://schema/res"), varintField(77, 1));
    const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: 1 << 20 });
    assert.equal(result.acceptedSpans, 1);
    // Fields before the first child stay before, the rest after: here the output is the input itself.
    assert.ok(result.messages[0]!.value.equals(body));
    checkSplit(body, result, 1, 1 << 20);
  });

  it("rejects spans with bad ids or times with reasons, and passes the valid ones", () => {
    const spans = [
      handSpan({ spanId: hexId(1, 8) }),
      handSpan({ traceId: "5b8aa5a2d2c872e8321cf373", spanId: hexId(2, 8) }),
      handSpan({ traceId: "00000000000000000000000000000000", spanId: hexId(3, 8) }),
      handSpan({ spanId: "0000000000000000" }),
      handSpan({ spanId: "0515" }),
      handSpan({ spanId: hexId(6, 8), start: [1_700_000_001, 0], end: [1_700_000_000, 999_999_999] }),
      handSpan({ spanId: hexId(7, 8), start: [1_700_000_000, 5], end: [1_700_000_000, 5] }),
      handSpan({ traceId: "", spanId: hexId(8, 8) }),
    ];
    const input = toProtobuf(spans);
    const result = splitTraceRequest(input, { partitionCount: 3, maxMessageBytes: 1 << 20 });
    assert.equal(result.acceptedSpans, 2);
    assert.equal(result.rejectedSpans, 6);
    assert.equal(checkSplit(input, result, 3, 1 << 20), 2);
    assert.equal(
      result.errorMessage,
      "6 spans rejected: span 1 of scope 0 of resource 0: trace_id is 12 bytes, not 16; " +
        "span 2 of scope 0 of resource 0: trace_id is all zeros; span 3 of scope 0 of resource 0: span_id is all zeros; " +
        "span 4 of scope 0 of resource 0: span_id is 2 bytes, not 8; " +
        "span 5 of scope 0 of resource 0: end_time_unix_nano is before start_time_unix_nano; and 1 more",
    );
  });

  it("rejects a span whose known fields have the wrong wire type", () => {
    const good = fields(decodeRequest(toProtobuf([handSpan()]))[0]!.scopes[0]!.spans[0]!).map((f) => f.raw);
    const body = ld(1, ld(1, stringAttribute("service.name", "s")), ld(2, ld(2, ...good, varintField(5, 1)), ld(2, ...good)));
    const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: 1 << 20 });
    assert.equal(result.acceptedSpans, 1);
    assert.match(result.errorMessage ?? "", /span 0 of scope 0 of resource 0: field 5 has wire type 0, not 2/);
  });

  it("splits a partition into messages no larger than maxMessageBytes", () => {
    for (const maxMessageBytes of [1200, 2500, 10_000]) {
      const result = splitTraceRequest(input, { partitionCount: 3, maxMessageBytes });
      assert.equal(result.rejectedSpans, 0);
      assert.ok(result.messages.length > 3);
      assert.equal(checkSplit(input, result, 3, maxMessageBytes), total);
      // Packing is greedy: no two consecutive messages of a partition could have been one.
      assert.ok(result.messages.some((m) => m.value.length > maxMessageBytes * 0.7));
    }
  });

  it("holds its invariants for any partition count and size limit", () => {
    const small = toProtobuf(sdkSpans(6, 3));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 900, max: 30_000 }), (partitionCount, max) => {
        const result = splitTraceRequest(small, { partitionCount, maxMessageBytes: max });
        assert.equal(result.acceptedSpans + result.rejectedSpans, 36);
        assert.equal(checkSplit(small, result, partitionCount, max), result.acceptedSpans);
        // Re-splitting an output message changes nothing: outputs are valid requests with valid spans.
        for (const message of result.messages) {
          const again = splitTraceRequest(message.value, { partitionCount, maxMessageBytes: max });
          assert.equal(again.acceptedSpans, message.spans);
          assert.ok(again.messages[0]!.value.equals(message.value));
        }
      }),
      { numRuns: 60 },
    );
  });

  it("rejects a span too large for any message and keeps the others", () => {
    const spans = [
      handSpan({ spanId: hexId(1, 8) }),
      handSpan({ spanId: hexId(2, 8), attributes: { blob: "x".repeat(5000) } }),
      handSpan({ spanId: hexId(3, 8) }),
    ];
    const result = splitTraceRequest(toProtobuf(spans), { partitionCount: 1, maxMessageBytes: 3000 });
    assert.equal(result.acceptedSpans, 2);
    assert.equal(result.rejectedSpans, 1);
    assert.match(result.errorMessage ?? "", /^1 span rejected: span 1 of scope 0 of resource 0: \d+ bytes with its resource and scope, more than maxMessageBytes 3000$/);
    assert.equal(result.messages.length, 1);
    assert.equal(result.messages[0]!.spans, 2);
  });

  it("returns nothing for an empty request and checks its options", () => {
    assert.deepEqual(splitTraceRequest(Buffer.alloc(0), { partitionCount: 3, maxMessageBytes: 100 }), {
      messages: [],
      acceptedSpans: 0,
      rejectedSpans: 0,
      strippedAttributes: 0,
      errorMessage: undefined,
    });
    assert.throws(() => splitTraceRequest(input, { partitionCount: 0, maxMessageBytes: 100 }), RangeError);
    assert.throws(() => splitTraceRequest(input, { partitionCount: 2, maxMessageBytes: 0.5 }), RangeError);
  });

  it("reads a Uint8Array that is a view into a larger buffer", () => {
    const padded = Buffer.concat([Buffer.from("garbage"), input, Buffer.from("more")]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 7, input.length);
    const result = splitTraceRequest(view, { partitionCount: 5, maxMessageBytes: 1 << 20 });
    assert.equal(checkSplit(input, result, 5, 1 << 20), total);
  });
});
