import type { Attributes, HrTime, Link, SpanContext } from "@opentelemetry/api";
import { SpanKind, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { Resource } from "@opentelemetry/resources";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { IdGenerator, ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

/**
 * Spans for tests: made by the real SDK (BasicTracerProvider) or by hand as ReadableSpans when a test needs ids or
 * times the SDK would never produce, and serialized by @opentelemetry/otlp-transformer, the bytes OTel exporters send.
 */

type SerializerInput = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0];

export function toProtobuf(spans: readonly ReadableSpan[]): Buffer {
  // The transformer is typed against its own copy of the SDK packages; the shapes are the same.
  const bytes = ProtobufTraceSerializer.serializeRequest(spans as unknown as SerializerInput);
  if (bytes === undefined) throw new Error("the serializer returned nothing");
  return Buffer.from(bytes);
}

export function toJson(spans: readonly ReadableSpan[]): unknown {
  const bytes = JsonTraceSerializer.serializeRequest(spans as unknown as SerializerInput);
  if (bytes === undefined) throw new Error("the serializer returned nothing");
  return JSON.parse(Buffer.from(bytes).toString("utf8"));
}

/** Deterministic ids so that a failing case can be reproduced. */
export function seededIds(seed: number): IdGenerator {
  let state = seed >>> 0 || 1;
  const hex = (bytes: number): string => {
    let out = "";
    for (let i = 0; i < bytes; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      out += (state >>> 24).toString(16).padStart(2, "0");
    }
    return out;
  };
  return { generateTraceId: () => hex(16), generateSpanId: () => hex(8) };
}

export const RESOURCES: readonly Attributes[] = [
  { "service.name": "checkout", "service.version": "1.4.2", "service.instance.id": "checkout-7d9f-abc", "k8s.pod.name": "checkout-7d9f-abc" },
  { "service.name": "payments", "service.namespace": "shop", "cloud.region": "eu-west-1", "host.name": "node-3" },
  // No service.name: the splitter must add service.name = unknown_service.
  { "host.name": "batch-1", "telemetry.sdk.language": "nodejs" },
];

/**
 * A batch as an instrumented service sends it: per resource two tracers (scopes), spans with a dozen attributes,
 * an event, a link on some, statuses, parents. `perScope` spans per scope.
 */
export function sdkSpans(perScope: number, seed = 1, resources: readonly Attributes[] = RESOURCES): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const spans: ReadableSpan[] = [];
  resources.forEach((attributes, r) => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes(attributes),
      idGenerator: seededIds(seed * 1000 + r),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    for (const [library, version] of [["@opentelemetry/instrumentation-http", "0.57.0"], ["app", undefined]] as const) {
      const tracer = provider.getTracer(library, version);
      let parent: SpanContext | undefined;
      for (let i = 0; i < perScope; i++) {
        const span = tracer.startSpan(`GET /api/items/${i % 7}`, {
          kind: i % 3 === 0 ? SpanKind.SERVER : SpanKind.CLIENT,
          attributes: realisticAttributes(i),
          links: parent && i % 4 === 0 ? [{ context: parent, attributes: { "link.kind": "follows" } }] : [],
        });
        if (i % 5 === 0) span.addEvent("exception", { "exception.type": "TimeoutError", "exception.message": "upstream timed out" });
        span.setStatus(i % 6 === 0 ? { code: SpanStatusCode.ERROR, message: "timeout" } : { code: SpanStatusCode.UNSET });
        span.end();
        parent = span.spanContext();
      }
    }
  });
  spans.push(...exporter.getFinishedSpans());
  return spans;
}

export function realisticAttributes(i: number): Attributes {
  return {
    "http.request.method": "GET",
    "http.route": `/api/items/${i % 7}`,
    "http.response.status_code": i % 6 === 0 ? 504 : 200,
    "url.path": `/api/items/${i % 7}/details`,
    "url.scheme": "https",
    "server.address": "checkout.shop.svc.cluster.local",
    "server.port": 8080,
    "network.protocol.version": "1.1",
    "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
    "client.address": "10.12.4.17",
    "app.cache.hit": i % 2 === 0,
    "app.items": [i, i + 1, i + 2],
  };
}

export interface HandSpan {
  readonly traceId?: string;
  readonly spanId?: string;
  readonly parentSpanId?: string;
  readonly name?: string;
  readonly start?: HrTime;
  readonly end?: HrTime;
  readonly attributes?: Attributes;
  readonly resource?: Resource;
  readonly scope?: InstrumentationScope;
  readonly links?: Link[];
}

export const DEFAULT_RESOURCE = resourceFromAttributes({ "service.name": "hand" });
const DEFAULT_SCOPE: InstrumentationScope = { name: "hand-scope", version: "1" };

/** A ReadableSpan with exactly the given ids and times, valid unless told otherwise. */
export function handSpan(span: HandSpan = {}): ReadableSpan {
  const context: SpanContext = {
    traceId: span.traceId ?? "5b8aa5a2d2c872e8321cf37308d69df2",
    spanId: span.spanId ?? "051581bf3cb55c13",
    traceFlags: TraceFlags.SAMPLED,
  };
  const start = span.start ?? [1_700_000_000, 0];
  const end = span.end ?? [1_700_000_000, 250_000_000];
  return {
    name: span.name ?? "hand",
    kind: SpanKind.INTERNAL,
    spanContext: () => context,
    parentSpanContext: span.parentSpanId
      ? { traceId: context.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true }
      : undefined,
    startTime: start,
    endTime: end,
    status: { code: SpanStatusCode.OK },
    attributes: span.attributes ?? { "http.route": "/hand" },
    links: span.links ?? [],
    events: [],
    duration: [0, 0],
    ended: true,
    resource: span.resource ?? DEFAULT_RESOURCE,
    instrumentationScope: span.scope ?? DEFAULT_SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** A hex id from a counter, never all zeros. */
export function hexId(n: number, bytes: number): string {
  return (n + 1).toString(16).padStart(bytes * 2, "0").slice(-bytes * 2);
}
