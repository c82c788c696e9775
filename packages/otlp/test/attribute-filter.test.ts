import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resourceFromAttributes } from "@opentelemetry/resources";
import fc from "fast-check";
import { AttributeMatcher } from "../src/attribute-filter.ts";
import { ATTRIBUTES_ALWAYS_KEPT, splitTraceRequest } from "../src/index.ts";
import type { AttributeFilterOptions, SplitResult } from "../src/index.ts";
import { handSpan, hexId, sdkSpans, toProtobuf } from "./fixtures.ts";
import type { DecodedResource, Field } from "./protobuf-fields.ts";
import { attributes, decodeRequest, fields, fixed64Field, ld, payload, stringAttribute, varintField } from "./protobuf-fields.ts";

/** The filter as the task states it, on strings: an independent model of what AttributeMatcher does on bytes. */
function modelKeeps(key: string, options: AttributeFilterOptions): boolean {
  const matches = (patterns: readonly string[]): boolean =>
    patterns.some((p) => (p.endsWith("*") ? key.startsWith(p.slice(0, -1)) : key === p));
  if (matches(ATTRIBUTES_ALWAYS_KEPT)) return true;
  return (options.allow === undefined || matches(options.allow)) && !matches(options.deny ?? []);
}

function keyOf(keyValue: Buffer): string {
  return payload(keyValue, 1)?.toString("utf8") ?? "";
}

/** The last value of a varint field, or 0n when absent (proto3 default). */
function lastVarint(message: Buffer, number: number): bigint {
  return fields(message).findLast((f) => f.number === number)?.varint ?? 0n;
}

interface Removed {
  span: number;
  events: number;
}

/**
 * Checks that `output` is `input` filtered: the same fields in the same order, but for removed attributes (field
 * `attributesField`), the dropped count (field `droppedField`, raised by what was removed) and, in spans, events
 * checked the same way. A message that loses nothing is byte-identical. Returns what was removed.
 */
function checkFiltered(input: Buffer, output: Buffer, options: AttributeFilterOptions, span: boolean): Removed {
  const attributesField = span ? 9 : 3;
  const droppedField = span ? 10 : 4;
  const inFields = fields(input);
  const outFields = fields(output);
  const keptAttributes = inFields.filter((f) => f.number === attributesField && modelKeeps(keyOf(f.payload), options));
  const removed = inFields.filter((f) => f.number === attributesField).length - keptAttributes.length;
  // Everything but attributes, dropped counts and events is untouched, in order.
  const others = (list: Field[]): string[] =>
    list.filter((f) => f.number !== attributesField && f.number !== droppedField && !(span && f.number === 11)).map((f) => f.raw.toString("hex"));
  assert.deepEqual(others(outFields), others(inFields));
  const attrs = (list: Field[]): string[] => list.filter((f) => f.number === attributesField).map((f) => f.raw.toString("hex"));
  assert.deepEqual(attrs(outFields), keptAttributes.map((f) => f.raw.toString("hex")));
  if (removed > 0) {
    const raised = lastVarint(input, droppedField) + BigInt(removed);
    assert.equal(lastVarint(output, droppedField), raised > 0xffffffffn ? 0xffffffffn : raised, "a uint32 count stops at its maximum");
    assert.equal(outFields.filter((f) => f.number === droppedField).length, 1, "one dropped count");
  } else {
    assert.deepEqual(
      outFields.filter((f) => f.number === droppedField).map((f) => f.raw.toString("hex")),
      inFields.filter((f) => f.number === droppedField).map((f) => f.raw.toString("hex")),
    );
  }
  let events = 0;
  if (span) {
    const inEvents = inFields.filter((f) => f.number === 11);
    const outEvents = outFields.filter((f) => f.number === 11);
    assert.equal(outEvents.length, inEvents.length);
    inEvents.forEach((event, i) => {
      const r = checkFiltered(event.payload, outEvents[i]!.payload, options, false);
      events += r.span;
    });
  }
  if (removed === 0 && events === 0) assert.ok(output.equals(input), "a message that loses nothing is copied as it is");
  return { span: removed, events };
}

/** Input spans by span id (hex), with their resource and scope headers. */
interface InputSpan {
  readonly span: Buffer;
  /** Whether its resource has a service.name; when not, `resource` is the keys the output's must have. */
  readonly named: boolean;
  readonly resource: string;
  readonly scope: string;
}

/** A ResourceSpans' header fields, or for a resource that had to be named, its attribute keys. */
function resourceOf(rs: DecodedResource, named: boolean): string {
  return named ? Buffer.concat(rs.header).toString("hex") : [...attributes(rs.resource).keys()].join();
}

function spansById(body: Buffer): Map<string, InputSpan> {
  const out = new Map<string, InputSpan>();
  for (const rs of decodeRequest(body)) {
    // The split adds service.name where it is missing (trace-split.test.ts checks how); the rest is as it was.
    const named = attributes(rs.resource).has("service.name");
    const resource = named ? resourceOf(rs, true) : [...attributes(rs.resource).keys(), "service.name"].join();
    for (const ss of rs.scopes) {
      for (const span of ss.spans) {
        out.set(payload(span, 2)!.toString("hex"), {
          span,
          named,
          resource,
          scope: Buffer.concat(ss.header).toString("hex"),
        });
      }
    }
  }
  return out;
}

/**
 * Checks a filtered split of `input` against the model: every accepted span once, filtered as the options say,
 * under its resource and scope as they were (resource attributes untouched), messages within the limit.
 */
function checkSplit(input: Buffer, result: SplitResult, options: AttributeFilterOptions, max: number): void {
  const expected = spansById(input);
  const seen = new Set<string>();
  let stripped = 0;
  for (const message of result.messages) {
    assert.ok(message.value.length <= max, `a message of ${message.value.length} bytes > ${max}`);
    for (const rs of decodeRequest(message.value)) {
      for (const ss of rs.scopes) {
        for (const span of ss.spans) {
          const id = payload(span, 2)!.toString("hex");
          const want = expected.get(id);
          assert.ok(want, `span ${id} comes from the input`);
          assert.ok(!seen.has(id), `span ${id} is written once`);
          seen.add(id);
          assert.equal(resourceOf(rs, want.named), want.resource, "resource as it was");
          assert.equal(Buffer.concat(ss.header).toString("hex"), want.scope, "scope as it was");
          const removed = checkFiltered(want.span, span, options, true);
          stripped += removed.span + removed.events;
          for (const kv of payloads9(span)) {
            assert.ok(modelKeeps(keyOf(kv), options), `no filtered-out key remains: ${keyOf(kv)}`);
          }
        }
      }
    }
  }
  assert.equal(seen.size, result.acceptedSpans);
  assert.equal(result.strippedAttributes, stripped);
}

function payloads9(span: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (const f of fields(span)) {
    if (f.number === 9) out.push(f.payload);
    if (f.number === 11) for (const e of fields(f.payload)) if (e.number === 3) out.push(e.payload);
  }
  return out;
}

const MAX = 1 << 20;
const input = toProtobuf(sdkSpans(10));
const SPANS = 3 * 2 * 10;

describe("splitTraceRequest with an attribute filter", () => {
  it("denies keys in spans and events, raising dropped_attributes_count by what each lost", () => {
    const options = { deny: ["url.path", "user_agent.original", "exception.message"] };
    for (const partitionCount of [1, 5]) {
      const result = splitTraceRequest(input, { partitionCount, maxMessageBytes: MAX, attributes: options });
      assert.equal(result.acceptedSpans, SPANS);
      // Every span has url.path and user_agent.original; one span in five per scope has an exception event.
      assert.equal(result.strippedAttributes, SPANS * 2 + 6 * 2);
      checkSplit(input, result, options, MAX);
    }
    const result = splitTraceRequest(input, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
    const span = decodeRequest(result.messages[0]!.value)[0]!.scopes[0]!.spans[0]!;
    assert.deepEqual(
      [...attributes(span, 9).keys()],
      ["http.request.method", "http.route", "http.response.status_code", "url.scheme", "server.address", "server.port",
        "network.protocol.version", "client.address", "app.cache.hit", "app.items"],
    );
    assert.equal(lastVarint(span, 10), 2n);
    const event = payload(span, 11)!;
    assert.deepEqual([...attributes(event, 3).keys()], ["exception.type"]);
    assert.equal(lastVarint(event, 4), 1n);
    // The SDK writes fields in number order; a re-encoded span keeps to it (the new count follows the attributes).
    for (const message of [span, event]) {
      const numbers = fields(message).map((f) => f.number);
      assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
    }
  });

  it("with allow, keeps only the listed keys and ATTRIBUTES_ALWAYS_KEPT", () => {
    const spans = [
      handSpan({
        spanId: hexId(1, 8),
        attributes: {
          "url.full": "https://x/y?z",
          "http.route": "/y",
          "http.response.status_code": 200,
          "peer.service": "db",
          "sampling.probability": 0.25,
          "app.tenant": "t1",
          "app.secret": "s",
        },
      }),
    ];
    const body = toProtobuf(spans);
    const options = { allow: ["app.tenant"] };
    const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
    const span = decodeRequest(result.messages[0]!.value)[0]!.scopes[0]!.spans[0]!;
    assert.deepEqual([...attributes(span, 9).keys()], ["http.route", "http.response.status_code", "peer.service", "sampling.probability", "app.tenant"]);
    assert.equal(lastVarint(span, 10), 2n);
    assert.equal(result.strippedAttributes, 2);
    checkSplit(body, result, options, MAX);
    // allow: [] keeps only the always-kept keys; denying them changes nothing.
    const only = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: MAX, attributes: { allow: [], deny: ["http.route", "sampling.*"] } });
    const kept = decodeRequest(only.messages[0]!.value)[0]!.scopes[0]!.spans[0]!;
    assert.deepEqual([...attributes(kept, 9).keys()], ["http.route", "http.response.status_code", "peer.service", "sampling.probability"]);
    assert.equal(only.strippedAttributes, 3);
  });

  it("matches prefixes ending in *, and combines allow and deny", () => {
    const keys = {
      "http.request.header.authorization": "Bearer x",
      "http.request.header.cookie": "c=1",
      "http.request.method": "GET",
      "http.response.header.content-type": "text/plain",
      "http.response.status_code": 500,
      "http.requestless": "not under the header prefix",
      "db.statement": "SELECT 1",
      "app.a": 1,
    };
    const body = toProtobuf([handSpan({ attributes: keys })]);
    const keptKeys = (options: AttributeFilterOptions): string[] => {
      const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
      checkSplit(body, result, options, MAX);
      return [...attributes(decodeRequest(result.messages[0]!.value)[0]!.scopes[0]!.spans[0], 9).keys()];
    };
    assert.deepEqual(keptKeys({ deny: ["http.request.header.*", "db.statement"] }), [
      "http.request.method",
      "http.response.header.content-type",
      "http.response.status_code",
      "http.requestless",
      "app.a",
    ]);
    assert.deepEqual(keptKeys({ allow: ["http.*"], deny: ["http.re*"] }), ["http.request.method", "http.response.status_code"]);
    assert.deepEqual(keptKeys({ allow: ["http.request.*", "app.a"], deny: ["http.request.header.cookie"] }), [
      "http.request.header.authorization",
      "http.request.method",
      "http.response.status_code",
      "app.a",
    ]);
    assert.deepEqual(keptKeys({ deny: ["*"] }), ["http.request.method", "http.response.status_code"]);
    assert.deepEqual(keptKeys({ allow: ["*"], deny: ["app.*", "http.request.header.c*"] }), [
      "http.request.header.authorization",
      "http.request.method",
      "http.response.header.content-type",
      "http.response.status_code",
      "http.requestless",
      "db.statement",
    ]);
  });

  it("leaves resource, scope and link attributes alone", () => {
    const spans = [
      handSpan({
        resource: resourceFromAttributes({ "service.name": "s", "host.name": "h", "app.a": "resource" }),
        scope: { name: "lib", version: "1" },
        attributes: { "app.a": "span", "host.name": "span" },
        links: [{ context: { traceId: hexId(9, 16), spanId: hexId(9, 8), traceFlags: 1 }, attributes: { "app.a": "link" } }],
      }),
    ];
    const body = toProtobuf(spans);
    const options = { deny: ["app.a", "host.name", "service.*"] };
    const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
    assert.equal(result.strippedAttributes, 2);
    checkSplit(body, result, options, MAX);
    const [rs] = decodeRequest(result.messages[0]!.value);
    assert.deepEqual([...attributes(rs!.resource)], [["service.name", "s"], ["host.name", "h"], ["app.a", "resource"]]);
    const link = payload(rs!.scopes[0]!.spans[0]!, 13)!;
    assert.deepEqual([...attributes(link, 4)], [["app.a", "link"]]);
    // A resource without service.name still gets one, next to a filtered span.
    const unnamed = toProtobuf([handSpan({ resource: resourceFromAttributes({ "app.a": "r" }), attributes: { "app.a": "x" } })]);
    const named = splitTraceRequest(unnamed, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
    const resource = decodeRequest(named.messages[0]!.value)[0]!.resource;
    assert.deepEqual([...attributes(resource)], [["app.a", "r"], ["service.name", "unknown_service"]]);
  });

  it("copies spans with nothing to strip byte for byte, and is the plain split when nothing can match", () => {
    const spans = [
      handSpan({ spanId: hexId(1, 8), attributes: { "http.route": "/a" } }),
      handSpan({ spanId: hexId(2, 8), attributes: { "http.route": "/b", blob: "x".repeat(300) } }),
      handSpan({ spanId: hexId(3, 8), attributes: { "http.route": "/c" } }),
    ];
    const body = toProtobuf(spans);
    const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: MAX, attributes: { deny: ["blob"] } });
    const [first, second, third] = decodeRequest(result.messages[0]!.value)[0]!.scopes[0]!.spans;
    const original = decodeRequest(body)[0]!.scopes[0]!.spans;
    assert.ok(first!.equals(original[0]!));
    assert.ok(third!.equals(original[2]!));
    assert.ok(second!.length < original[1]!.length - 300);
    assert.equal(result.strippedAttributes, 1);
    checkSplit(body, result, { deny: ["blob"] }, MAX);
    // Lists that match nothing, or only always-kept keys: the output is the unfiltered one.
    const plain = splitTraceRequest(input, { partitionCount: 7, maxMessageBytes: 4000 });
    for (const attributes of [{ deny: ["no.such.key", "nor.*"] }, { deny: ["http.route"] }, {}, { allow: ["*"] }]) {
      const filtered = splitTraceRequest(input, { partitionCount: 7, maxMessageBytes: 4000, attributes });
      assert.equal(filtered.strippedAttributes, 0);
      assert.deepEqual(
        filtered.messages.map((m) => [m.partition, m.value.toString("hex")]),
        plain.messages.map((m) => [m.partition, m.value.toString("hex")]),
      );
    }
  });

  it("plans with the filtered sizes: messages stay within maxMessageBytes, a span fits once stripped", () => {
    const options = { deny: ["user_agent.original", "url.*"] };
    for (const maxMessageBytes of [900, 1500, 4000]) {
      const result = splitTraceRequest(input, { partitionCount: 3, maxMessageBytes, attributes: options });
      assert.equal(result.rejectedSpans, 0);
      checkSplit(input, result, options, maxMessageBytes);
      // Greedy packing on the smaller sizes: fewer messages than without the filter.
      const plain = splitTraceRequest(input, { partitionCount: 3, maxMessageBytes });
      assert.ok(result.messages.length < plain.messages.length);
    }
    const spans = [
      handSpan({ spanId: hexId(1, 8) }),
      handSpan({ spanId: hexId(2, 8), attributes: { blob: "x".repeat(5000) } }),
    ];
    const body = toProtobuf(spans);
    assert.equal(splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: 3000 }).rejectedSpans, 1);
    const stripped = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: 3000, attributes: { deny: ["blob"] } });
    assert.equal(stripped.acceptedSpans, 2);
    assert.equal(stripped.rejectedSpans, 0);
    checkSplit(body, stripped, { deny: ["blob"] }, 3000);
    // A span too large even stripped is rejected, and what was stripped from it is not counted.
    const big = toProtobuf([handSpan({ attributes: { blob: "x".repeat(5000), app: "y" } })]);
    const rejected = splitTraceRequest(big, { partitionCount: 1, maxMessageBytes: 3000, attributes: { deny: ["app"] } });
    assert.equal(rejected.rejectedSpans, 1);
    assert.equal(rejected.strippedAttributes, 0);
  });

  it("adds to existing dropped counts, keeps unknown fields, and rewrites long fields exactly", () => {
    const kv = (key: string, value: string): Buffer => ld(9, ld(1, key), ld(2, ld(1, value)));
    const longValue = "v".repeat(200);
    const event = ld(
      11,
      fixed64Field(1, 5n),
      ld(2, "ev"),
      ld(3, ld(1, "app.drop"), ld(2, ld(1, "x"))),
      varintField(4, 7),
      ld(3, ld(1, "app.keep"), ld(2, ld(1, longValue))),
      ld(3, ld(1, "app.drop"), ld(2, ld(1, longValue))),
      varintField(99, 1),
    );
    const span = Buffer.concat([
      ld(1, Buffer.alloc(16, 7)),
      ld(2, Buffer.alloc(8, 9)),
      ld(5, "op"),
      fixed64Field(7, 1n),
      fixed64Field(8, 2n),
      varintField(10, 1), // overridden by the later one
      ld(9, ld(1, "app.drop"), ld(2, ld(1, longValue))),
      kv("http.route", "/r"),
      varintField(10, 0xfffffffe),
      event,
      ld(9, ld(1, "app.drop"), ld(1, "app.keep"), ld(2, ld(1, "last key wins"))),
      ld(9, ld(2, ld(1, "no key at all"))),
      ld(200, "future span field"),
    ]);
    const body = ld(1, ld(1, stringAttribute("service.name", "s")), ld(2, ld(1, ld(1, "lib")), ld(2, span)));
    const options = { deny: ["app.drop", ""] };
    const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
    assert.equal(result.acceptedSpans, 1);
    assert.equal(result.strippedAttributes, 4);
    checkSplit(body, result, options, MAX);
    const out = decodeRequest(result.messages[0]!.value)[0]!.scopes[0]!.spans[0]!;
    // 0xfffffffe + 2 does not fit a uint32: the count stops at its maximum.
    assert.equal(lastVarint(out, 10), 0xffffffffn);
    assert.equal(lastVarint(payload(out, 11)!, 4), 9n);
    assert.deepEqual([...attributes(out, 9).keys()], ["http.route", "app.keep"]);
    // Filtering again finds nothing more: the output is a fixed point.
    const again = splitTraceRequest(result.messages[0]!.value, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
    assert.equal(again.strippedAttributes, 0);
    assert.ok(again.messages[0]!.value.equals(result.messages[0]!.value));
  });

  it("rejects a span whose attributes or events cannot be read, only when filtering", () => {
    const good = fields(decodeRequest(toProtobuf([handSpan()]))[0]!.scopes[0]!.spans[0]!).map((f) => f.raw);
    const badEvent = ld(11, ld(2, "ev"), varintField(3, 1)); // Event.attributes as a varint
    const badKeyValue = ld(9, varintField(1, 5)); // KeyValue.key as a varint
    const truncated = ld(11, Buffer.from([0x1a, 0x05, 0x0a])); // a KeyValue longer than its event
    for (const bad of [badEvent, badKeyValue, truncated]) {
      const body = ld(1, ld(1, stringAttribute("service.name", "s")), ld(2, ld(2, ...good, bad), ld(2, ...good)));
      assert.equal(splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: MAX }).acceptedSpans, 2);
      const result = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: MAX, attributes: { deny: ["x"] } });
      assert.equal(result.acceptedSpans, 1);
      assert.match(result.errorMessage ?? "", /^1 span rejected: span 0 of scope 0 of resource 0: attributes or events unreadable: malformed protobuf: .* at byte \d+$/);
    }
  });

  it("checks its patterns and compiles each options object once", () => {
    for (const attributes of [{ deny: ["http.*.header"] }, { allow: ["*.x"] }, { deny: "x" as unknown as string[] }, { allow: [1 as unknown as string] }, { allow: ["*", "a*b"] }]) {
      assert.throws(() => splitTraceRequest(input, { partitionCount: 1, maxMessageBytes: MAX, attributes }), RangeError);
    }
    const matcher = new AttributeMatcher({ allow: ["a.*", "b"], deny: ["a.secret", "a.x*"] });
    assert.deepEqual(
      ["a.public", "a.secret", "a.xy", "b", "bb", "c", "http.route", "sampling.adjusted_count", "ключ"].map((k) => matcher.keepsKey(k)),
      [true, false, false, true, false, false, true, true, false],
    );
    // A mutated options object keeps the matcher compiled first: the object is the cache key.
    const options = { deny: ["app.cache.hit"] as string[] };
    const before = splitTraceRequest(input, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
    options.deny.push("app.items");
    const after = splitTraceRequest(input, { partitionCount: 1, maxMessageBytes: MAX, attributes: options });
    assert.equal(after.strippedAttributes, before.strippedAttributes);
  });

  it("holds for random requests and random lists: outputs decode, every span once, no filtered-out key left", () => {
    const KEYS = [
      "http.route",
      "http.request.method",
      "http.request.header.a",
      "http.request.header.b",
      "http.response.status_code",
      "sampling.probability",
      "db.statement",
      "app.a",
      "app.b",
      "app.long.key.name.that.goes.on",
      "",
      "ключ",
    ];
    const PATTERNS = [...KEYS, "http.*", "http.request.header.*", "app.*", "*", "sampling.*", "db.*", "nothing"];
    const value = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ minLength: 120, maxLength: 300 }));
    const keyValue = fc.tuple(fc.constantFrom(...KEYS), value).map(([k, v]) => ld(1, k ? ld(1, k) : Buffer.alloc(0), ld(2, ld(1, v))));
    const dropped = fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined });
    const event = fc
      .record({ attrs: fc.array(keyValue, { maxLength: 4 }), dropped })
      .map(({ attrs, dropped }) => ld(11, fixed64Field(1, 3n), ld(2, "e"), ...attrs.map((a) => ld(3, a)), ...(dropped === undefined ? [] : [varintField(4, dropped)])));
    let nextId = 1;
    const span = fc
      .record({
        traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((b) => b.some((x) => x !== 0)),
        attrs: fc.array(keyValue, { maxLength: 8 }),
        dropped,
        droppedFirst: fc.boolean(),
        events: fc.array(event, { maxLength: 3 }),
      })
      .map(({ traceId, attrs, dropped, droppedFirst, events }) => {
        const count = dropped === undefined ? [] : [varintField(10, dropped)];
        return ld(
          2,
          ld(1, Buffer.from(traceId)),
          ld(2, Buffer.from(hexId(nextId++, 8), "hex")),
          ld(5, "op"),
          fixed64Field(7, 1n),
          fixed64Field(8, 2n),
          ...(droppedFirst ? count : []),
          ...attrs.map((a) => ld(9, a)),
          ...(droppedFirst ? [] : count),
          ...events,
          ld(15, varintField(3, 1)),
        );
      });
    const scope = fc.array(span, { minLength: 1, maxLength: 4 }).map((spans) => ld(2, ld(1, ld(1, "lib")), ...spans));
    const resource = fc
      .array(scope, { minLength: 1, maxLength: 3 })
      .map((scopes) => ld(1, ld(1, stringAttribute("service.name", "s"), stringAttribute("app.a", "resource")), ...scopes));
    const request = fc.array(resource, { minLength: 1, maxLength: 3 }).map((rs) => Buffer.concat(rs));
    const list = fc.array(fc.constantFrom(...PATTERNS), { maxLength: 4 });
    const options = fc.record({ allow: list, deny: list }, { requiredKeys: [] });
    fc.assert(
      fc.property(request, options, fc.integer({ min: 1, max: 9 }), fc.constantFrom(700, 2000, MAX), (body, attributes, partitionCount, max) => {
        const result = splitTraceRequest(body, { partitionCount, maxMessageBytes: max, attributes });
        const total = spansById(body).size;
        assert.equal(result.acceptedSpans + result.rejectedSpans, total);
        if (result.rejectedSpans > 0) assert.match(result.errorMessage ?? "", /more than maxMessageBytes/);
        checkSplit(body, result, attributes, max);
        for (const message of result.messages) {
          const again = splitTraceRequest(message.value, { partitionCount, maxMessageBytes: max, attributes });
          assert.equal(again.strippedAttributes, 0);
          assert.ok(again.messages[0]!.value.equals(message.value));
        }
      }),
      { numRuns: 300 },
    );
  });
});
