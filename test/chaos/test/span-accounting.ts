// Span accounting for the chaos suite: the lab's own count of what its exporters were told, held against the final
// aggregates the loop published. Every span whose export was answered SUCCESS must be counted in exactly one
// aggregate; a span whose export failed may have been stored anyway (the ingest killed after Kafka acknowledged it,
// an answer that timed out), so per service and version:
//
//   accepted  <=  counted  <=  accepted + failed
//
// Below: a span the ingest acknowledged was lost. Above: a span was counted twice (a duplicate that dedup missed, an
// aggregate restated). The aggregates' own `spans.duplicate` says how many copies stage 1 removed on the way.
import type { WindowAggregate } from "@meshloop/contracts";
import type { ExportedSpans } from "@meshloop/lab";

/** SERVER spans (requests) of one service and version: the lab's figures against the aggregates' instance series. */
export interface VersionAccount {
  service: string;
  version: string;
  accepted: number;
  failed: number;
  counted: number;
}

/** All spans (SERVER and CLIENT) of one service: the lab's figures against the aggregates' span counts. */
export interface ServiceAccount {
  service: string;
  accepted: number;
  failed: number;
  counted: number;
  /** Copies stage 1 recognised and dropped (raw spans). */
  duplicatesRemoved: number;
  /** Counted in a later window than their own because theirs had closed. */
  late: number;
  /** Re-timed to their arrival: stamped further off than the aggregator's skew bound. */
  skewed: number;
}

export interface SpanAccounting {
  versions: VersionAccount[];
  services: ServiceAccount[];
  /** Distinct aggregates (by id: service, window and part) that were summed. */
  aggregates: number;
  /** The same aggregate read again with the same content (the reader's at-least-once delivery): summed once. */
  rereads: number;
  /** Ids read twice with different content: an aggregate restated, which no reader can sum right. */
  conflicting: string[];
}

const EPSILON = 1e-6;

export function accountSpans(exported: readonly ExportedSpans[], aggregates: readonly WindowAggregate[]): SpanAccounting {
  const unique = new Map<string, { aggregate: WindowAggregate; text: string }>();
  let rereads = 0;
  const conflicting: string[] = [];
  for (const aggregate of aggregates) {
    const text = JSON.stringify(aggregate);
    const seen = unique.get(aggregate.id);
    if (seen === undefined) unique.set(aggregate.id, { aggregate, text });
    else if (seen.text === text) rereads++;
    else conflicting.push(aggregate.id);
  }

  const versions = new Map<string, VersionAccount>();
  const services = new Map<string, ServiceAccount>();
  const version = (service: string, v: string): VersionAccount => {
    const key = `${service}\u0000${v}`;
    let row = versions.get(key);
    if (row === undefined) versions.set(key, (row = { service, version: v, accepted: 0, failed: 0, counted: 0 }));
    return row;
  };
  const service = (name: string): ServiceAccount => {
    let row = services.get(name);
    if (row === undefined) services.set(name, (row = { service: name, accepted: 0, failed: 0, counted: 0, duplicatesRemoved: 0, late: 0, skewed: 0 }));
    return row;
  };
  for (const e of exported) {
    const v = version(e.service, e.version);
    v.accepted += e.acceptedServer;
    v.failed += e.failedServer;
    const s = service(e.service);
    s.accepted += e.accepted;
    s.failed += e.failed;
  }
  for (const { aggregate } of unique.values()) {
    // Parts of a split aggregate hold disjoint series, and the span counts once (in part 0).
    for (const series of aggregate.series) version(aggregate.service, series.version).counted += series.counters.requests;
    const s = service(aggregate.service);
    s.counted += aggregate.spans.accepted;
    s.duplicatesRemoved += aggregate.spans.duplicate;
    s.late += aggregate.spans.late;
    s.skewed += aggregate.spans.skewed;
  }
  const byName = <T extends { service: string; version?: string }>(a: T, b: T) =>
    a.service.localeCompare(b.service) || (a.version ?? "").localeCompare(b.version ?? "");
  return {
    versions: [...versions.values()].sort(byName),
    services: [...services.values()].sort(byName),
    aggregates: unique.size,
    rereads,
    conflicting,
  };
}

/** One line per broken bound (empty when every span is accounted for). */
export function accountingProblems(a: SpanAccounting): string[] {
  const problems: string[] = [];
  const check = (what: string, row: { accepted: number; failed: number; counted: number }) => {
    if (row.counted < row.accepted - EPSILON) problems.push(`${what}: ${row.accepted - row.counted} spans acknowledged to the exporter were lost (counted ${row.counted} of ${row.accepted} accepted)`);
    if (row.counted > row.accepted + row.failed + EPSILON) {
      problems.push(`${what}: counted ${row.counted}, more than the ${row.accepted} accepted + ${row.failed} failed exports: ${row.counted - row.accepted - row.failed} counted twice`);
    }
  };
  for (const v of a.versions) check(`${v.service} ${v.version} requests`, v);
  for (const s of a.services) check(`${s.service} spans`, s);
  for (const id of a.conflicting) problems.push(`aggregate ${id} was published twice with different content`);
  if (a.aggregates === 0) problems.push("no aggregates were read");
  return problems;
}

/** The figures, one line each, for the test's output. */
export function formatAccounting(a: SpanAccounting): string[] {
  const lines = a.versions.map(
    (v) => `${v.service} ${v.version} requests: accepted ${v.accepted}, failed-but-maybe-stored ${v.failed}, counted ${round(v.counted)}`,
  );
  for (const s of a.services) {
    lines.push(
      `${s.service} spans: accepted ${s.accepted}, failed-but-maybe-stored ${s.failed}, counted ${s.counted}, duplicates removed ${s.duplicatesRemoved}, late ${s.late}, re-timed (skew) ${s.skewed}`,
    );
  }
  lines.push(`${a.aggregates} aggregates summed, ${a.rereads} read again and ignored, ${a.conflicting.length} conflicting`);
  return lines;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
