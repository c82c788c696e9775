import type { Tracer } from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { ExportLedger } from "./export-ledger.ts";

/** One tracer provider per lab instance (several share a process), exporting OTLP/HTTP protobuf with the SDK's exporter. */

export interface IngestTarget {
  /** The OTLP/HTTP base (`http://host:4318`) or the full traces URL (ending in `/v1/traces`). */
  url: string;
  headers?: Record<string, string>;
  /** BatchSpanProcessor's scheduled delay; short, so that tests and scenarios see spans quickly. */
  exportDelayMs: number;
}

export interface ExportCounters {
  spansStarted: number;
  spansExported: number;
  spansFailed: number;
}

export function emptyExportCounters(): ExportCounters {
  return { spansStarted: 0, spansExported: 0, spansFailed: 0 };
}

export interface InstanceResource {
  service: string;
  version: string;
  instanceId: string;
  namespace: string;
}

export interface InstanceTelemetry {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

export function tracesUrl(url: string): string {
  return url.endsWith("/v1/traces") ? url : `${url.replace(/\/+$/, "")}/v1/traces`;
}

/**
 * The exporter's own results, counted: spans exported are spans the ingest acknowledged. The SDK exporter retries
 * (network errors, 429/502/503/504) inside one export, so the callback carries the final word on the batch.
 */
class CountingExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly counters: ExportCounters;
  private readonly resource: InstanceResource;
  private readonly ledger: ExportLedger | undefined;

  constructor(inner: SpanExporter, counters: ExportCounters, resource: InstanceResource, ledger: ExportLedger | undefined) {
    this.inner = inner;
    this.counters = counters;
    this.resource = resource;
    this.ledger = ledger;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      const ok = result.code === ExportResultCode.SUCCESS;
      if (ok) this.counters.spansExported += spans.length;
      else this.counters.spansFailed += spans.length;
      this.ledger?.record(this.resource.service, this.resource.version, spans, ok);
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export function instanceTelemetry(resource: InstanceResource, ingest: IngestTarget, counters: ExportCounters, ledger?: ExportLedger): InstanceTelemetry {
  const exporter = new OTLPTraceExporter({ url: tracesUrl(ingest.url), headers: ingest.headers ?? {}, timeoutMillis: 5_000 });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": resource.service,
      "service.version": resource.version,
      "service.instance.id": resource.instanceId,
      "service.namespace": resource.namespace,
      // meshloop resolves a target's namespace from this attribute (resolveTarget), as on Kubernetes.
      "k8s.namespace.name": resource.namespace,
    }),
    spanProcessors: [
      new BatchSpanProcessor(new CountingExporter(exporter, counters, resource, ledger), {
        scheduledDelayMillis: ingest.exportDelayMs,
        maxQueueSize: 8192,
        maxExportBatchSize: 512,
      }),
    ],
  });
  return {
    tracer: provider.getTracer("@meshloop/lab"),
    // The last flush may fail (the ingest refusing or gone): those spans are already counted in spansFailed, and a
    // lab that is stopping must stop whatever the ingest says.
    shutdown: () => provider.shutdown().catch(() => undefined),
  };
}
