import type { Attributes } from "@opentelemetry/api";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { visitSpans } from "@meshloop/otlp";

type SerializerInput = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0];

export const serviceResource: Attributes = {
  "service.name": "checkout",
  "service.version": "2.1.0",
  "service.instance.id": "checkout-7d9f-abc",
  "k8s.namespace.name": "shop",
};

/**
 * Makes `count` spans the way an instrumented service does (the real SDK), exported through `exporter` and also
 * kept in memory, so a test can compare what arrived with what was sent.
 */
export async function emitSpans(count: number, exporter: SpanExporter, resource: Attributes = serviceResource): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(memory), new BatchSpanProcessor(exporter, { maxExportBatchSize: 64, scheduledDelayMillis: 50 })],
  });
  const tracer = provider.getTracer("ingest-test", "1.0.0");
  for (let i = 0; i < count; i++) {
    const span = tracer.startSpan(`GET /api/items/${i % 5}`, {
      kind: i % 2 === 0 ? SpanKind.SERVER : SpanKind.CLIENT,
      attributes: {
        "http.request.method": "GET",
        "http.route": `/api/items/${i % 5}`,
        "http.response.status_code": i % 7 === 0 ? 503 : 200,
        "url.path": `/api/items/${i}`,
        "server.address": "checkout.shop.svc",
        "retry.count": i % 3,
        "cache.hit": i % 2 === 0,
        "payload.ratio": i / 10,
      },
    });
    if (i % 4 === 0) span.addEvent("cache miss", { "cache.key": `item-${i}` });
    span.setStatus(i % 7 === 0 ? { code: SpanStatusCode.ERROR, message: "upstream unavailable" } : { code: SpanStatusCode.OK });
    span.end();
  }
  await provider.forceFlush();
  // Shutting the provider down clears the in-memory exporter, so take the spans first.
  const spans = memory.getFinishedSpans().slice();
  await provider.shutdown();
  return spans;
}

/** An ExportTraceServiceRequest as the OTel protobuf exporters encode it. */
export function toProtobuf(spans: readonly ReadableSpan[]): Buffer {
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans as unknown as SerializerInput)!);
}

/** A small valid request for tests that only need one. */
export function sampleTraceRequest(count: number): Buffer {
  const spans: ReadableSpan[] = [];
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(serviceResource), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer("sample");
  for (let i = 0; i < count; i++) tracer.startSpan(`op-${i}`, { kind: SpanKind.SERVER }).end();
  spans.push(...memory.getFinishedSpans());
  return toProtobuf(spans);
}

/** Every span's exact protobuf bytes in a request, by "traceId/spanId". */
export function spanBytesById(request: Uint8Array): Map<string, Buffer> {
  const byId = new Map<string, Buffer>();
  visitSpans(request, (span) => {
    byId.set(`${span.traceIdHex()}/${span.spanIdHex()}`, Buffer.from(span.bytes()));
  });
  return byId;
}
