import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/**
 * The lab's own count of what its exporters were told, per service and version: the reference the chaos suite holds
 * the loop's aggregates against. A span whose export was answered SUCCESS was accepted by the ingest and must be
 * counted exactly once downstream. A span whose export failed may still have been stored (the ingest killed after
 * Kafka acknowledged it, or an answer that timed out), so it bounds the count from above, never from below.
 * Spans the SDK dropped before any export (a full queue) are in neither.
 */

/** The spans the aggregator counts as requests served (the lab makes no CONSUMER spans, but they would count). */
const SERVER_SIDE: ReadonlySet<SpanKind> = new Set([SpanKind.SERVER, SpanKind.CONSUMER]);

export interface ExportedSpans {
  service: string;
  version: string;
  /** Spans of exports answered SUCCESS. */
  accepted: number;
  /** Of those, SERVER spans: one per request served, what the aggregates count as requests. */
  acceptedServer: number;
  /** Spans of exports that failed (refused, timed out, connection lost): stored or not, nobody knows. */
  failed: number;
  failedServer: number;
}

export class ExportLedger {
  private readonly rows = new Map<string, ExportedSpans>();

  /** Called with each export's result; `service` and `version` are the exporting instance's resource. */
  record(service: string, version: string, spans: readonly ReadableSpan[], accepted: boolean): void {
    const key = `${service}\u0000${version}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      row = { service, version, accepted: 0, acceptedServer: 0, failed: 0, failedServer: 0 };
      this.rows.set(key, row);
    }
    const server = spans.reduce((n, span) => n + (SERVER_SIDE.has(span.kind) ? 1 : 0), 0);
    if (accepted) {
      row.accepted += spans.length;
      row.acceptedServer += server;
    } else {
      row.failed += spans.length;
      row.failedServer += server;
    }
  }

  /** Copies, sorted by service then version. */
  list(): ExportedSpans[] {
    return [...this.rows.values()]
      .map((row) => ({ ...row }))
      .sort((a, b) => a.service.localeCompare(b.service) || a.version.localeCompare(b.version));
  }
}
