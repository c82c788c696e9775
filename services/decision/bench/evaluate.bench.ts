// Targets evaluated per second on one core, run on demand (not a test): `pnpm --filter @meshloop/decision bench`.
// Each target is mid-canary (v2 at 10%, effective), and each evaluation takes one new window of realistic size
// (2 versions x 2 instances, 2,000 requests, lognormal latencies in 1%-accuracy sketches of ~150 bins) through the canary controller
// and every guardrail, composing a decision when one is due. Aggregates are built before timing; the figure is
// the pure core's throughput on this thread per CPU-second (process.cpuUsage), i.e. per core, with wall time
// alongside. Arguments: [targets] [windows] [all = all controllers].
import { performance } from "node:perf_hooks";
import type { TargetRef, WindowAggregate } from "@meshloop/contracts";
import { canaryEffective, evaluateTarget, initialGlobalState, initialTargetState, policyWith } from "../src/index.ts";
import type { Policy, TargetState } from "../src/index.ts";
import { rng, T0, trafficWindow, WINDOW_MS } from "../test/support/aggregates.ts";

const targets = Number(process.argv[2] ?? 2000);
const windows = Number(process.argv[3] ?? 20);
const all = process.argv[4] === "all";
const behaviour = { errorRate: 0.005, medianMs: 40, sigma: 0.5 };

// passingWindows is out of reach so every window takes the full judgement path and the canary stays at 10%.
const policy: Policy = policyWith({
  canary: { enabled: true, passingWindows: 1_000_000 },
  // all: every controller runs on every window (routing stands aside while the canary runs, as it does live).
  ...(all
    ? {
        ejection: { enabled: true },
        retries: { enabled: true },
        routing: { enabled: true },
        scaling: { enabled: true, targetRequestsPerReplica: 100 },
        failover: { enabled: true },
        backpressure: { enabled: true },
        security: { enabled: true },
      }
    : {}),
});

function targetRef(k: number): TargetRef {
  return { mesh: "lab", namespace: "bench", service: `svc-${k}` };
}

/** A target mid-canary: baseline v1, canary v2 at 10%, its step effective from the first timed window. */
function midCanary(target: TargetRef): TargetState {
  const base = initialTargetState(target);
  const canary = canaryEffective(
    { ...base.canary, phase: "progressing", baseline: "v1", canary: "v2", stepIndex: 1, weight: 10, changedAtMs: T0 - 30_000 },
    T0 - 20_000,
  );
  return {
    ...base,
    canary,
    lastWindowEndMs: T0,
    generation: T0 * 1000,
    desired: { ...base.desired, weights: { v1: 90, v2: 10 } },
  };
}

// Distinct aggregates per window, shared (by reference) among targets: realistic data without a heap so large that
// the collector dominates the timing.
const POOL = 64;

function prepare(): { states: TargetState[]; input: WindowAggregate[][] } {
  const random = rng(1);
  const pool: WindowAggregate[][] = [];
  for (let w = 0; w < windows; w++) {
    pool.push(Array.from({ length: POOL }, () => trafficWindow(random, T0 + w * WINDOW_MS, 2000, { v1: 90, v2: 10 }, () => behaviour)));
  }
  const states: TargetState[] = [];
  const input: WindowAggregate[][] = [];
  for (let k = 0; k < targets; k++) {
    const target = targetRef(k);
    states.push(midCanary(target));
    input.push(pool.map((options, w) => {
      const aggregate = options[(k + w) % POOL]!;
      return { ...aggregate, target, service: target.service, id: aggregate.id.replace("checkout", target.service) };
    }));
  }
  return { states, input };
}

function run(
  states: TargetState[],
  input: WindowAggregate[][],
): { seconds: number; cpuSeconds: number; evaluations: number; decisions: number; latencies: Float64Array } {
  let global = initialGlobalState();
  let decisions = 0;
  const latencies = new Float64Array(states.length * windows);
  let n = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let w = 0; w < windows; w++) {
    for (let k = 0; k < states.length; k++) {
      const t0 = performance.now();
      const out = evaluateTarget(states[k]!, [input[k]![w]!], policy, global, { globalMaxActionsPerMinute: 1_000_000 });
      latencies[n++] = performance.now() - t0;
      states[k] = out.state;
      global = out.global;
      if (out.decision !== null) decisions++;
    }
  }
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, evaluations: n, decisions, latencies };
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const fresh = prepare();
// A warm-up on fresh states of some targets, so the JIT has compiled the hot paths before timing.
run(fresh.states.slice(0, Math.min(200, targets)).map((s) => midCanary(s.target)), fresh.input);
const result = run(fresh.states, fresh.input);
const sorted = result.latencies.slice().sort();
const bins = fresh.input[0]![0]!.series.map((s) => s.counters.latency.indexes.length);
console.log(
  JSON.stringify({
    controllers: all ? "all eight (canary, ejection, retries, routing, scaling, failover, backpressure, security)" : "canary",
    targets,
    windowsPerTarget: windows,
    instancesPerWindow: fresh.input[0]![0]!.series.length,
    sketchBinsPerInstance: Math.round(bins.reduce((a, b) => a + b, 0) / bins.length),
    evaluations: result.evaluations,
    decisions: result.decisions,
    seconds: Number(result.seconds.toFixed(3)),
    cpuSeconds: Number(result.cpuSeconds.toFixed(3)),
    // Per CPU-second of this thread: the figure that holds per core, whatever else shares the machine.
    targetsPerCpuSecond: Math.round(result.evaluations / result.cpuSeconds),
    targetsPerWallSecond: Math.round(result.evaluations / result.seconds),
    evaluationMs: { p50: Number(quantile(sorted, 0.5).toFixed(4)), p99: Number(quantile(sorted, 0.99).toFixed(4)), max: Number(sorted[sorted.length - 1]!.toFixed(3)) },
    stateBytes: JSON.stringify(fresh.states[0]).length,
    node: process.version,
  }),
);
