import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "@meshloop/errors";
import fc from "fast-check";
import { encodeTraceRequestFromJson, extractResourceGauges, extractResourceGaugesFromJson, splitTraceRequest, visitSpans } from "../src/index.ts";
import { sdkSpans, toJson, toProtobuf } from "./fixtures.ts";
import { fields, ld, varintBytes } from "./protobuf-fields.ts";

/**
 * Whatever arrives, the readers return or throw a ValidationError: never another error (a RangeError from a Buffer
 * method, a stack overflow), never a hang. Each call is timed; a request of a few KB takes well under a millisecond.
 */
const FILTER = { deny: ["exception.message", "url.*"] };
const READERS: Record<string, (body: Buffer) => unknown> = {
  split: (body) => splitTraceRequest(body, { partitionCount: 7, maxMessageBytes: 1500 }),
  // The filter reads attributes and events, which the plain split skips: malformed ones reject their span.
  splitFiltered: (body) => splitTraceRequest(body, { partitionCount: 7, maxMessageBytes: 1500, attributes: FILTER }),
  visit: (body) => visitSpans(body, (c) => [c.name(), c.traceIdHex(), c.attribute("http.route")]),
  gauges: (body) => extractResourceGauges(body),
};

function outcome(read: (body: Buffer) => unknown, body: Buffer): "ok" | "invalid" {
  const started = performance.now();
  try {
    read(body);
    return "ok";
  } catch (error) {
    if (!(error instanceof ValidationError)) throw new Error(`not a ValidationError: ${String(error)}`, { cause: error });
    assert.match(error.message, / at byte \d+$/);
    return "invalid";
  } finally {
    assert.ok(performance.now() - started < 250, "bounded time");
  }
}

const valid = toProtobuf(sdkSpans(3, 5));

describe("malformed protobuf input", () => {
  it("fails every truncation that cuts a field, and only those", () => {
    const boundaries = new Set(fields(valid).map((f) => f.raw.byteOffset - valid.byteOffset));
    for (let length = 0; length < valid.length; length++) {
      const cut = valid.subarray(0, length);
      for (const [name, read] of Object.entries(READERS)) {
        const expected = boundaries.has(length) ? "ok" : "invalid";
        assert.equal(outcome(read, cut), expected, `${name}, first ${length} bytes`);
      }
    }
  });

  it("fails bad wire types, length overflows and overlong varints with a ValidationError", () => {
    const cases = [
      Buffer.from([0x0f]), // wire type 7
      Buffer.from([0x0e, 0x00]), // wire type 6
      Buffer.concat([Buffer.from([0x0a]), varintBytes(2n ** 31n), Buffer.alloc(4)]),
      Buffer.concat([Buffer.from([0x0a]), varintBytes(-1n)]),
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      ld(1, Buffer.from([0x12, 0x7f, 0x0a])), // a ScopeSpans longer than its ResourceSpans
      ld(1, ld(2, ld(2, Buffer.from([0x0a, 0x10, 0x01])))), // a trace_id longer than its span
      ld(1, ld(2, ld(2, Buffer.from([0x0c])))), // an end-group without a start
      ld(1, Buffer.from([0x08, 0x01])), // ResourceSpans.resource as a varint
    ];
    for (const body of cases) assert.equal(outcome(READERS.split!, body), "invalid", body.toString("hex"));
  });

  it("survives random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        for (const read of Object.values(READERS)) outcome(read, Buffer.from(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it("survives random mutations of a valid request, and whatever it accepts re-splits to the same spans", () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), byte: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let body = Buffer.from(valid);
        for (const { kind, at, byte } of mutations) {
          const i = at % body.length;
          if (kind === "set") body[i] = byte;
          else if (kind === "insert") body = Buffer.concat([body.subarray(0, i), Buffer.from([byte]), body.subarray(i)]);
          else body = Buffer.concat([body.subarray(0, i), body.subarray(i + 1)]);
        }
        for (const read of Object.values(READERS)) outcome(read, body);
        let result: ReturnType<typeof splitTraceRequest> | undefined;
        try {
          result = splitTraceRequest(body, { partitionCount: 5, maxMessageBytes: 4000 });
        } catch {
          return;
        }
        for (const message of result.messages) {
          assert.ok(message.value.length <= 4000);
          const again = splitTraceRequest(message.value, { partitionCount: 5, maxMessageBytes: 4000 });
          assert.equal(again.acceptedSpans, message.spans);
          assert.equal(again.rejectedSpans, 0);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("malformed JSON input", () => {
  it("throws only ValidationErrors for any JSON value, in place of any part of a valid request", () => {
    const template = JSON.stringify(toJson(sdkSpans(1, 7)));
    const check = (json: unknown): void => {
      for (const read of [encodeTraceRequestFromJson, extractResourceGaugesFromJson]) {
        try {
          read(json);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw new Error(`not a ValidationError: ${String(error)}`, { cause: error });
        }
      }
    };
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 1000 });
    // Replace one value of the valid request by a random one.
    const slots = [...template.matchAll(/:("[^"]*"|-?\d+(\.\d+)?|true|false|null)/g)].map((m) => [m.index + 1, m[1]!.length] as const);
    fc.assert(
      fc.property(fc.nat(slots.length - 1), fc.jsonValue(), (slot, value) => {
        const [at, length] = slots[slot]!;
        check(JSON.parse(template.slice(0, at) + JSON.stringify(value) + template.slice(at + length)));
      }),
      { numRuns: 2000 },
    );
  });
});
