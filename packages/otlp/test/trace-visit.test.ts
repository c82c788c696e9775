import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HrTime } from "@opentelemetry/api";
import { visitSpans } from "../src/index.ts";
import type { SpanCursor } from "../src/index.ts";
import { handSpan, RESOURCES, sdkSpans, toProtobuf } from "./fixtures.ts";

interface Seen {
  service: string;
  instance: string | undefined;
  region: string | undefined;
  traceId: string;
  spanId: string;
  parent: string;
  name: string;
  kind: number;
  statusCode: number;
  start: number;
  end: number;
  duration: number;
  route: string | number | boolean | undefined;
  status: string | number | boolean | undefined;
  cacheHit: string | number | boolean | undefined;
}

function seen(c: SpanCursor): Seen {
  return {
    service: c.resource.service,
    instance: c.resource.attributes.serviceInstanceId,
    region: c.resource.attributes.cloudRegion,
    traceId: c.traceIdHex(),
    spanId: c.spanIdHex(),
    parent: c.parentSpanIdHex(),
    name: c.name(),
    kind: c.kind,
    statusCode: c.statusCode,
    start: c.startTimeUnixNano,
    end: c.endTimeUnixNano,
    duration: c.durationNanos,
    route: c.attribute("http.route"),
    status: c.attribute("http.response.status_code"),
    cacheHit: c.attribute("app.cache.hit"),
  };
}

/** Exact, unlike core's hrTimeToNanoseconds, which rounds present-day times to 256 ns. */
function nanos(time: HrTime): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

describe("visitSpans", () => {
  it("reads what the SDK put into each span, in order", () => {
    const spans = sdkSpans(5);
    const visited: Seen[] = [];
    visitSpans(toProtobuf(spans), (c) => visited.push(seen(c)));
    assert.equal(visited.length, spans.length);
    // The serializer groups by resource and scope in first-seen order, which is the SDK's finishing order here.
    spans.forEach((span, i) => {
      const got = visited[i]!;
      const resource = span.resource.attributes;
      assert.equal(got.service, resource["service.name"] ?? "unknown_service");
      assert.equal(got.instance, resource["service.instance.id"]);
      assert.equal(got.region, resource["cloud.region"]);
      assert.equal(got.traceId, span.spanContext().traceId);
      assert.equal(got.spanId, span.spanContext().spanId);
      assert.equal(got.parent, span.parentSpanContext?.spanId ?? "");
      assert.equal(got.name, span.name);
      assert.equal(got.kind, span.kind + 1);
      assert.equal(got.statusCode, span.status.code);
      assert.equal(got.start, Number(nanos(span.startTime)));
      assert.equal(got.end, Number(nanos(span.endTime)));
      assert.equal(got.duration, Number(nanos(span.endTime) - nanos(span.startTime)));
      assert.equal(got.route, span.attributes["http.route"]);
      assert.equal(got.status, span.attributes["http.response.status_code"]);
      assert.equal(got.cacheHit, span.attributes["app.cache.hit"]);
    });
    assert.equal(RESOURCES.length, 3);
  });

  it("reports indexes, exact durations and flags", () => {
    const spans = [
      handSpan({ start: [1_700_000_000, 999_999_999], end: [1_700_000_001, 1] }),
      handSpan({ parentSpanId: "00f067aa0ba902b7", name: "child" }),
    ];
    const cursors: { scope: number; span: number; duration: number; flags: number; parent: boolean }[] = [];
    visitSpans(toProtobuf(spans), (c) =>
      cursors.push({ scope: c.scopeIndex, span: c.spanIndex, duration: c.durationNanos, flags: c.flags, parent: c.hasParent() }),
    );
    assert.deepEqual(cursors, [
      { scope: 0, span: 0, duration: 2, flags: 0x101, parent: false },
      // A remote parent: flags carry the has-remote and is-remote bits.
      { scope: 0, span: 1, duration: 250_000_000, flags: 0x301, parent: true },
    ]);
  });

  it("hands out span bytes and ids as views of the request", () => {
    const body = toProtobuf([handSpan()]);
    visitSpans(body, (c) => {
      assert.equal(c.traceId().buffer, body.buffer);
      assert.equal(c.traceId().toString("hex"), "5b8aa5a2d2c872e8321cf37308d69df2");
      assert.equal(c.spanId().length, 8);
      assert.ok(body.includes(c.bytes()));
      assert.equal(c.attribute("missing"), undefined);
    });
  });
});
