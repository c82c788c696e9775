// Valid decisions, actuation results and window aggregates (real DDSketches) for the console's tests, and the
// messages that carry them on the bus.
import type { Bus, OutgoingRecord } from "@meshloop/bus";
import { aggregateId, emptyDesiredState, encodeEnvelope, sketchGamma, targetKey, toCloudEventMessage } from "@meshloop/contracts";
import type { ActuationResult, Decision, EdgeSeries, Evidence, LatencySketch, PauseNotice, TargetRef, WindowAggregate } from "@meshloop/contracts";

export const payments: TargetRef = { mesh: "lab", namespace: "lab", service: "payments" };
/** Realistic epoch milliseconds, aligned to the window. */
export const T0 = 1_746_057_600_000;
export const WINDOW_MS = 10_000;

export interface DecisionSpec {
  target?: TargetRef;
  generation: number;
  controllers?: Decision["controllers"];
  reason: string;
  weights?: Record<string, number> | null;
  requiresApproval?: boolean;
  evidence?: Evidence[];
  deniedCallers?: Decision["desiredState"]["deniedCallers"];
  windowEndMs?: number;
}

export function decision(spec: DecisionSpec): Decision {
  const target = spec.target ?? payments;
  return {
    decisionId: `${targetKey(target)}@${spec.generation}`,
    target,
    generation: spec.generation,
    desiredState: { ...emptyDesiredState(target), weights: spec.weights ?? null, deniedCallers: spec.deniedCallers ?? [] },
    controllers: spec.controllers ?? ["canary"],
    reason: spec.reason,
    evidence: spec.evidence ?? [],
    requiresApproval: spec.requiresApproval ?? false,
    dryRun: false,
    windowEndMs: spec.windowEndMs ?? T0 + spec.generation * WINDOW_MS,
    createdAt: new Date(T0 + spec.generation * WINDOW_MS).toISOString(),
  };
}

export function actuation(d: Decision, status: ActuationResult["status"] = "applied", observedAt = new Date(T0 + d.generation * WINDOW_MS + 500)): ActuationResult {
  return {
    decisionId: d.decisionId,
    target: d.target,
    generation: d.generation,
    mesh: d.target.mesh,
    status,
    reason: status === "applied" ? "route table updated" : `the lab answered ${status}`,
    resources: [{ kind: "route-table", name: `${d.target.namespace}/${d.target.service}`, status: status === "applied" ? "applied" : "skipped" }],
    unsupported: [],
    ...(status === "applied" ? { appliedAt: observedAt.toISOString() } : {}),
    observedAt: observedAt.toISOString(),
  };
}

/** A sketch of the given latencies (ms), binned as the contracts define it. */
export function sketchOf(latencies: readonly number[], relativeAccuracy = 0.01): LatencySketch {
  const logGamma = Math.log(sketchGamma(relativeAccuracy));
  const bins = new Map<number, number>();
  for (const v of latencies) {
    const index = Math.ceil(Math.log(v) / logGamma);
    bins.set(index, (bins.get(index) ?? 0) + 1);
  }
  const indexes = [...bins.keys()].sort((a, b) => a - b);
  return {
    relativeAccuracy,
    indexes,
    counts: indexes.map((i) => bins.get(i)!),
    zeroCount: 0,
    count: latencies.length,
    sum: latencies.reduce((a, b) => a + b, 0),
    min: latencies.length > 0 ? Math.min(...latencies) : 0,
    max: latencies.length > 0 ? Math.max(...latencies) : 0,
  };
}

export interface VersionTraffic {
  requests: number;
  errors: number;
  /** Every request takes this long unless `latencies` says otherwise. */
  latencyMs?: number;
  latencies?: number[];
}

export interface AggregateSpec {
  service: string;
  target?: TargetRef;
  windowStartMs: number;
  versions: Record<string, VersionTraffic>;
  inbound?: Array<[caller: string, requests: number, errors: number]>;
  outbound?: Array<[callee: string, requests: number, errors: number]>;
  part?: { index: number; count: number };
}

const counters = (requests: number, errors: number, latencies: number[]) => ({
  requests,
  errors,
  status: { "2xx": requests - errors, "3xx": 0, "4xx": 0, "401": 0, "403": 0, "5xx": errors, grpcErrors: 0 },
  latency: sketchOf(latencies),
  sampling: "known" as const,
});

function edge(caller: string, callee: string, requests: number, errors: number): EdgeSeries {
  return { caller: { service: caller, namespace: "lab" }, callee: { service: callee, namespace: "lab", virtual: false }, connectionType: "direct", counters: counters(requests, errors, new Array<number>(requests).fill(5)) };
}

export function aggregate(spec: AggregateSpec): WindowAggregate {
  const target = spec.target ?? { mesh: "lab", namespace: "lab", service: spec.service };
  const part = spec.part ?? { index: 0, count: 1 };
  return {
    id: aggregateId(spec.service, spec.windowStartMs, WINDOW_MS, part.index, part.count),
    service: spec.service,
    target,
    windowStartMs: spec.windowStartMs,
    windowMs: WINDOW_MS,
    series: Object.entries(spec.versions).map(([version, v]) => ({
      version,
      instance: `${spec.service}-${version}-${part.index}`,
      locality: { region: null, zone: null, cluster: null },
      counters: counters(v.requests, v.errors, v.latencies ?? new Array<number>(v.requests).fill(v.latencyMs ?? 10)),
    })),
    routes: [],
    inbound: (spec.inbound ?? []).map(([caller, r, e]) => edge(caller, spec.service, r, e)),
    outbound: (spec.outbound ?? []).map(([callee, r, e]) => edge(spec.service, callee, r, e)),
    spans: { accepted: 0, late: 0, skewed: 0, duplicate: 0 },
    resources: [],
    completeness: { complete: true, missingPartitions: [] },
    part,
  };
}

export function decisionRecord(d: Decision): OutgoingRecord {
  return toCloudEventMessage({ type: "dev.meshloop.decision.v1", id: d.decisionId, source: "/meshloop/decision", data: d });
}

export function actuationRecord(r: ActuationResult): OutgoingRecord {
  return toCloudEventMessage({ type: "dev.meshloop.actuation.v1", id: `${r.decisionId}:${r.mesh}:${r.observedAt}`, source: `/meshloop/actuator/${r.mesh}`, data: r });
}

export function pauseRecord(n: PauseNotice): OutgoingRecord {
  return toCloudEventMessage({ type: "dev.meshloop.pause.v1", id: n.pauseId, source: "/meshloop/decision", data: n });
}

export function aggregateRecord(a: WindowAggregate): OutgoingRecord {
  return { key: targetKey(a.target), value: encodeEnvelope("meshloop.aggregate", a) };
}

/** Sends records to one topic with a short-lived producer. */
export async function publish(bus: Bus, topic: string, records: readonly OutgoingRecord[]): Promise<void> {
  const producer = bus.producer();
  await producer.connect();
  try {
    await producer.send(topic, records);
  } finally {
    await producer.close();
  }
}
