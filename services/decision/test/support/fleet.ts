// Windows built pod by pod, with resource gauges and localities, for the scaling, routing, failover and security tests.
import type { EdgeSeries, Locality, WindowAggregate } from "@meshloop/contracts";
import { instancesWindow, sketchOf, T0, target, WINDOW_MS } from "./aggregates.ts";

export interface Pod {
  readonly instance: string;
  readonly version?: string;
  readonly requests?: number;
  readonly errors?: number;
  /** Every request's latency (ms); default 20. */
  readonly latencyMs?: number;
  /** Explicit latencies instead of latencyMs. */
  readonly latencies?: readonly number[];
  /** CPU utilization gauge (1 = 100%); null: the pod sent no gauge; undefined: no resource entry at all. */
  readonly cpu?: number | null;
  readonly locality?: Partial<Locality>;
}

export interface Caller {
  readonly service: string;
  readonly namespace?: string;
  readonly requests: number;
  readonly errors?: number;
  readonly unauthorized?: number;
  readonly forbidden?: number;
}

export interface FleetOptions {
  readonly complete?: boolean;
  readonly callers?: readonly Caller[];
}

const DEFAULT_LOCALITY: Locality = { region: "eu-west-1", zone: "eu-west-1a", cluster: null };

export function fleetWindow(index: number, pods: readonly Pod[], options: FleetOptions = {}): WindowAggregate {
  const startMs = windowStart(index);
  const base = instancesWindow(
    startMs,
    pods.map((p) => ({ instance: p.instance, requests: p.requests ?? 0, errors: p.errors ?? 0, version: p.version ?? "v1", latencyMs: p.latencyMs ?? 20 })),
  );
  const series = base.series.map((s, i) => {
    const pod = pods[i]!;
    const locality = { ...DEFAULT_LOCALITY, ...pod.locality };
    return pod.latencies === undefined ? { ...s, locality } : { ...s, locality, counters: { ...s.counters, latency: sketchOf(pod.latencies) } };
  });
  const resources = pods
    .filter((p) => p.cpu !== undefined)
    .map((p) => ({ instance: p.instance, version: p.version ?? "v1", cpuUtilization: p.cpu ?? null, memoryUtilization: null, memoryBytes: null }));
  const inbound: EdgeSeries[] = (options.callers ?? []).map((c) => {
    const unauthorized = c.unauthorized ?? 0;
    const forbidden = c.forbidden ?? 0;
    const errors = c.errors ?? 0;
    return {
      caller: { service: c.service, namespace: c.namespace ?? target.namespace },
      callee: { service: target.service, namespace: target.namespace, virtual: false },
      connectionType: "direct",
      counters: {
        requests: c.requests,
        errors,
        status: { "2xx": Math.max(0, c.requests - errors - unauthorized - forbidden), "3xx": 0, "4xx": unauthorized + forbidden, "401": unauthorized, "403": forbidden, "5xx": errors, grpcErrors: 0 },
        latency: sketchOf([]),
        sampling: "known",
      },
    };
  });
  const complete = options.complete ?? true;
  return { ...base, series, resources, inbound, completeness: { complete, missingPartitions: complete ? [] : [1] } };
}

export function windowStart(index: number): number {
  return T0 + index * WINDOW_MS;
}

export function windowEnd(index: number): number {
  return windowStart(index) + WINDOW_MS;
}

/** n pods of one version with the given CPU and requests each. */
export function pods(n: number, each: Omit<Pod, "instance">, prefix = "pod"): Pod[] {
  return Array.from({ length: n }, (_, i) => ({ ...each, instance: `${prefix}-${i}` }));
}

