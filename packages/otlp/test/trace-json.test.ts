import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "@meshloop/errors";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { encodeTraceRequestFromJson, splitTraceRequest } from "../src/index.ts";
import { handSpan, sdkSpans, toJson, toProtobuf } from "./fixtures.ts";
import { attributes, decodeRequest, fields, payload } from "./protobuf-fields.ts";

/** A request holding one span with the given JSON fields, around a valid span. */
function oneSpan(span: Record<string, unknown>): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "s" } }] },
        scopeSpans: [{ scope: { name: "lib" }, spans: [{ traceId: "5b8aa5a2d2c872e8321cf37308d69df2", spanId: "051581bf3cb55c13", ...span }] }],
      },
    ],
  };
}

function spanFields(json: unknown): ReturnType<typeof fields> {
  return fields(decodeRequest(encodeTraceRequestFromJson(json))[0]!.scopes[0]!.spans[0]!);
}

function throwsAt(json: unknown, message: string): void {
  assert.throws(() => encodeTraceRequestFromJson(json), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.message, message);
    return true;
  });
}

describe("encodeTraceRequestFromJson", () => {
  it("turns the OTel SDK's JSON into the very bytes of its protobuf", () => {
    for (const seed of [1, 2, 3]) {
      const spans = sdkSpans(8, seed);
      assert.ok(encodeTraceRequestFromJson(toJson(spans)).equals(toProtobuf(spans)));
    }
  });

  it("carries every AnyValue variant, kvlists, bytes, links and parents byte for byte", () => {
    const resource = resourceFromAttributes({ "service.name": "kinds" });
    const spans = [
      handSpan({
        resource,
        parentSpanId: "00f067aa0ba902b7",
        attributes: {
          text: "ünïcødé ✓",
          yes: true,
          no: false,
          small: -5,
          big: 2 ** 60,
          ratio: 0.25,
          list: ["a", "b"],
          empty: [],
          // Not allowed by the SDK's API, but the serializers encode them: kvlist and bytes.
          nested: { inner: { deeper: [1, "two", false] }, n: 1 },
          raw: Uint8Array.of(0, 1, 2, 254, 255),
        },
        links: [{ context: { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1, isRemote: true }, attributes: { l: "x" } }],
      }),
    ];
    const encoded = encodeTraceRequestFromJson(toJson(spans));
    assert.ok(encoded.equals(toProtobuf(spans)));
    // The case really holds every variant: AnyValue fields 1..7 all occur.
    const span = decodeRequest(encoded)[0]!.scopes[0]!.spans[0]!;
    const variants = new Set(fields(span).filter((f) => f.number === 9).map((f) => fields(payload(f.payload, 2)!)[0]!.number));
    assert.deepEqual([...variants].sort(), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(payload(span, 4)!.toString("hex"), "00f067aa0ba902b7");
  });

  it("reads hex ids in either case", () => {
    const lower = encodeTraceRequestFromJson(oneSpan({ traceId: "5b8aa5a2d2c872e8321cf37308d69df2" }));
    const upper = encodeTraceRequestFromJson(oneSpan({ traceId: "5B8AA5A2D2C872E8321CF37308D69DF2" }));
    assert.ok(lower.equals(upper));
  });

  it("passes ids of the wrong length through, for the splitter to reject per span", () => {
    const json = oneSpan({ traceId: "abcd", startTimeUnixNano: "1", endTimeUnixNano: "2" });
    const result = splitTraceRequest(encodeTraceRequestFromJson(json), { partitionCount: 1, maxMessageBytes: 10_000 });
    assert.equal(result.rejectedSpans, 1);
    assert.match(result.errorMessage ?? "", /trace_id is 2 bytes, not 16/);
  });

  it("reads 64-bit integers from strings and numbers, exactly, at the limits of their types", () => {
    const times = spanFields(oneSpan({ startTimeUnixNano: "18446744073709551615", endTimeUnixNano: Number(1_700_000_000_123_456_789n) }));
    assert.equal(times.find((f) => f.number === 7)!.payload.readBigUInt64LE(), 2n ** 64n - 1n);
    // A JSON number this large was rounded by JSON.parse already; it is written as the number it is.
    assert.equal(times.find((f) => f.number === 8)!.payload.readBigUInt64LE(), BigInt(Number(1_700_000_000_123_456_789n)));
    const exact = spanFields(oneSpan({ startTimeUnixNano: "1700000000123456789" }));
    assert.equal(exact.find((f) => f.number === 7)!.payload.readBigUInt64LE(), 1_700_000_000_123_456_789n);

    const ints = ["-9223372036854775808", "9223372036854775807", "-1", "0", 42, "1234567890123456789"];
    const attrs = spanFields(oneSpan({ attributes: ints.map((v, i) => ({ key: `k${i}`, value: { intValue: v } })) }));
    const decoded = attrs
      .filter((f) => f.number === 9)
      .map((f) => BigInt.asIntN(64, fields(payload(f.payload, 2)!)[0]!.varint).toString());
    assert.deepEqual(decoded, ints.map(String));
    throwsAt(
      oneSpan({ attributes: [{ key: "k", value: { intValue: "9223372036854775808" } }] }),
      "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue: expected a 64-bit integer, got \"9223372036854775808\"",
    );
    throwsAt(
      oneSpan({ startTimeUnixNano: "18446744073709551616" }),
      "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an unsigned 64-bit integer, got \"18446744073709551616\"",
    );
  });

  it("accepts enum names as well as integers, and doubles as strings", () => {
    const named = spanFields(oneSpan({ kind: "SPAN_KIND_SERVER", status: { code: "STATUS_CODE_ERROR", message: "m" } }));
    assert.equal(named.find((f) => f.number === 6)!.varint, 2n);
    assert.equal(fields(named.find((f) => f.number === 15)!.payload).find((f) => f.number === 3)!.varint, 2n);
    const doubles = spanFields(oneSpan({ attributes: ["NaN", "Infinity", "-Infinity", "1.5", 2].map((d) => ({ key: "d", value: { doubleValue: d } })) }));
    const values = doubles.filter((f) => f.number === 9).map((f) => payload(payload(f.payload, 2)!, 4)!.readDoubleLE());
    assert.deepEqual(values, [NaN, Infinity, -Infinity, 1.5, 2]);
  });

  it("ignores unknown keys and treats null as absent", () => {
    const plain = encodeTraceRequestFromJson(oneSpan({ name: "x" }));
    const extra = encodeTraceRequestFromJson(oneSpan({ name: "x", trace_id: "zz", future: { a: 1 }, parentSpanId: null, events: null }));
    assert.ok(plain.equals(extra));
    assert.equal(encodeTraceRequestFromJson({}).length, 0);
    assert.equal(attributes(decodeRequest(plain)[0]!.resource).get("service.name"), "s");
  });

  it("throws ValidationErrors naming the JSON path of a bad value", () => {
    throwsAt(oneSpan({ traceId: 123 }), "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex string, got 123");
    throwsAt(oneSpan({ spanId: "xyz0" }), "resourceSpans[0].scopeSpans[0].spans[0].spanId: expected a hex string, got \"xyz0\"");
    throwsAt(oneSpan({ spanId: "abc" }), "resourceSpans[0].scopeSpans[0].spans[0].spanId: expected a hex string, got \"abc\"");
    throwsAt(oneSpan({ name: ["a"] }), "resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, got an array");
    throwsAt(oneSpan({ kind: 1.5 }), "resourceSpans[0].scopeSpans[0].spans[0].kind: expected an enum integer, got 1.5");
    throwsAt(oneSpan({ droppedAttributesCount: -1 }), "resourceSpans[0].scopeSpans[0].spans[0].droppedAttributesCount: expected an unsigned 32-bit integer, got -1");
    throwsAt(oneSpan({ attributes: {} }), "resourceSpans[0].scopeSpans[0].spans[0].attributes: expected an array, got an object");
    throwsAt(oneSpan({ events: [5] }), "resourceSpans[0].scopeSpans[0].spans[0].events[0]: expected an object, got 5");
    throwsAt(
      oneSpan({ attributes: [{ key: "b", value: { bytesValue: "not base64!" } }] }),
      "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.bytesValue: expected a base64 string, got \"not base64!\"",
    );
    throwsAt(
      oneSpan({ attributes: [{ key: "two", value: { stringValue: "a", intValue: 1 } }] }),
      "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value: an AnyValue holds one value, this one 2",
    );
    throwsAt({ resourceSpans: [{ scopeSpans: [{ spans: [{ links: [{ traceId: false }] }] }] }] }, "resourceSpans[0].scopeSpans[0].spans[0].links[0].traceId: expected a hex string, got false");
    throwsAt("[]", "(root): expected an object, got \"[]\"");
    throwsAt({ resourceSpans: 1 }, "resourceSpans: expected an array, got 1");
  });

  it("refuses values nested without end instead of overflowing the stack", () => {
    let value: Record<string, unknown> = { stringValue: "leaf" };
    for (let i = 0; i < 10_000; i++) value = { arrayValue: { values: [value] } };
    assert.throws(() => encodeTraceRequestFromJson(oneSpan({ attributes: [{ key: "deep", value }] })), /nest deeper than 32/);
    let shallow: Record<string, unknown> = { stringValue: "leaf" };
    for (let i = 0; i < 30; i++) shallow = { kvlistValue: { values: [{ key: `k${i}`, value: shallow }] } };
    assert.ok(encodeTraceRequestFromJson(oneSpan({ attributes: [{ key: "ok", value: shallow }] })).length > 0);
  });

  it("keeps every span of a large batch through JSON and the splitter", () => {
    const spans = sdkSpans(40, 9);
    const result = splitTraceRequest(encodeTraceRequestFromJson(toJson(spans)), { partitionCount: 12, maxMessageBytes: 16_384 });
    assert.equal(result.acceptedSpans, spans.length);
    assert.equal(result.rejectedSpans, 0);
  });
});
