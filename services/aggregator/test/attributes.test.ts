import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ValidationError } from "@meshloop/errors";
import { WireWriter } from "@meshloop/otlp";
import fc from "fast-check";
import { ATTR, SpanAttributes } from "../src/spans/attributes.ts";

type Value = { string: string } | { int: number } | { double: number } | { bool: boolean } | { array: string[] };

/** A Span body holding only attributes (field 9) and optionally trace_state (field 3), written by hand. */
function body(attributes: Array<{ key: string; value: Value; valueFirst?: boolean; extra?: boolean }>, traceState?: string): Buffer {
  const w = new WireWriter();
  if (traceState !== undefined) {
    w.tag(3, 2);
    w.string(traceState);
  }
  for (const a of attributes) {
    w.tag(9, 2);
    const kv = w.fork();
    const writeKey = () => {
      w.tag(1, 2);
      w.string(a.key);
    };
    const writeValue = () => {
      w.tag(2, 2);
      const any = w.fork();
      const v = a.value;
      if ("string" in v) {
        w.tag(1, 2);
        w.string(v.string);
      } else if ("bool" in v) {
        w.tag(2, 0);
        w.varint(v.bool ? 1 : 0);
      } else if ("int" in v) {
        w.tag(3, 0);
        w.int64(v.int);
      } else if ("double" in v) {
        w.tag(4, 1);
        w.double(v.double);
      } else {
        w.tag(5, 2);
        const array = w.fork();
        for (const s of v.array) {
          w.tag(1, 2);
          const item = w.fork();
          w.tag(1, 2);
          w.string(s);
          w.join(item);
        }
        w.join(array);
      }
      w.join(any);
    };
    if (a.valueFirst) {
      writeValue();
      writeKey();
    } else {
      writeKey();
      writeValue();
    }
    if (a.extra) {
      w.tag(7, 0); // a field a future OTLP might add: skipped
      w.varint(300);
    }
    w.join(kv);
  }
  return Buffer.from(w.finish());
}

function scan(buf: Buffer): SpanAttributes {
  const a = new SpanAttributes();
  a.scan(buf, 0, buf.length);
  return a;
}

describe("reading span attributes in one pass", () => {
  test("the attributes read, of every scalar type, in any field order, others skipped", () => {
    const long = `/${"segment/".repeat(40)}{id}`; // over 127 bytes: a two-byte length
    const a = scan(
      body(
        [
          { key: "url.full", value: { string: "https://x" } },
          { key: "http.route", value: { string: long } },
          { key: "http.response.status_code", value: { int: 503 }, valueFirst: true },
          { key: "rpc.grpc.status_code", value: { string: "14" }, extra: true },
          { key: "sampling.probability", value: { double: 0.25 } },
          { key: "sampler.type", value: { bool: true } },
          { key: "peer.service", value: { array: ["a", "b"] } },
          { key: "http.routes", value: { string: "not ours" } },
        ],
        "ot=th:8",
      ),
    );
    assert.equal(a.string(ATTR.httpRoute), long);
    assert.equal(a.number(ATTR.httpResponseStatusCode), 503);
    assert.equal(a.number(ATTR.rpcGrpcStatusCode), 14);
    assert.equal(a.number(ATTR.samplingProbability), 0.25);
    assert.equal(a.scalar(ATTR.samplerType), true);
    assert.equal(a.has(ATTR.peerService), false, "arrays are not scalars");
    assert.equal(a.has(ATTR.serverAddress), false);
    assert.equal(a.traceState(), "ot=th:8");
  });

  test("a duplicate key: the last one wins, also when it is not readable", () => {
    assert.equal(scan(body([{ key: "http.route", value: { string: "/a" } }, { key: "http.route", value: { string: "/b" } }])).string(ATTR.httpRoute), "/b");
    assert.equal(scan(body([{ key: "http.route", value: { string: "/a" } }, { key: "http.route", value: { array: [] } }])).has(ATTR.httpRoute), false);
  });

  test("the fast path and the general one agree on any attribute list", () => {
    const key = fc.constantFrom("http.route", "rpc.method", "peer.service", "http.status_code", "server.address", "x", "http.route.x");
    const value: fc.Arbitrary<Value> = fc.oneof(
      fc.record({ string: fc.string({ maxLength: 200 }) }),
      fc.record({ int: fc.integer({ min: -1000, max: 1000 }) }),
      fc.record({ double: fc.double({ noNaN: true }) }),
      fc.record({ bool: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(fc.record({ key, value, valueFirst: fc.boolean(), extra: fc.boolean() }), { maxLength: 12 }), (attributes) => {
        const a = scan(body(attributes));
        // The model: the last occurrence of each key decides.
        for (const [name, slot] of [["http.route", ATTR.httpRoute], ["peer.service", ATTR.peerService], ["http.status_code", ATTR.httpStatusCode]] as const) {
          const last = attributes.filter((x) => x.key === name).at(-1);
          if (last === undefined) assert.equal(a.has(slot), false);
          else if ("string" in last.value) assert.equal(a.string(slot), last.value.string);
          else if ("int" in last.value) assert.equal(a.number(slot), last.value.int);
          else if ("double" in last.value) assert.equal(a.number(slot), last.value.double);
          else assert.equal(a.scalar(slot), (last.value as { bool: boolean }).bool);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("malformed framing throws a ValidationError", () => {
    const good = body([{ key: "http.route", value: { string: "/a" } }]);
    const cut = good.subarray(0, good.length - 2);
    assert.throws(() => scan(cut), ValidationError);
  });
});
