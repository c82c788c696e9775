import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decisionSchema, replicasSchema } from "@meshloop/contracts";
import { evaluateTarget, initialGlobalState, initialScalingState, initialTargetState, policyWith, scalingController } from "../../src/index.ts";
import type { ScalingPolicy, ScalingState } from "../../src/index.ts";
import { rng, target, WINDOW_MS } from "../support/aggregates.ts";
import { fleetWindow, pods, windowEnd } from "../support/fleet.ts";
import type { Pod } from "../support/fleet.ts";

const cpuPolicy = policyWith({ scaling: { enabled: true } }).scaling;

interface Load {
  /** Total CPU demand in pods' worth (the fleet shares it); null: a window without any aggregate (a gap). */
  readonly demand: number | null;
  /** Total requests per second. */
  readonly rps?: number;
  readonly complete?: boolean;
  /** Pods whose gauge is missing. */
  readonly missingGauges?: number;
}

interface Run {
  /** Window index and count of each proposal. */
  readonly proposals: { i: number; count: number; seen: number; mode: string; reason: string }[];
  readonly running: number[];
  readonly final: ScalingState;
}

/** A closed loop in windows: the fleet follows the commanded count `lag` windows later; load is spread over it. */
function run(policy: ScalingPolicy, start: number, windows: number, load: (i: number) => Load, lag = 2, noise = 0, seed = 1): Run {
  const random = rng(seed);
  let state = initialScalingState();
  let running = start;
  const pending: { at: number; count: number }[] = [];
  const out: Run = { proposals: [], running: [], final: state };
  for (let i = 0; i < windows; i++) {
    while (pending.length > 0 && pending[0]!.at <= i) running = pending.shift()!.count;
    out.running.push(running);
    const l = load(i);
    if (l.demand === null) continue;
    const cpu = l.demand / running;
    const fleet: Pod[] = pods(running, {}).map((p, k) => ({
      ...p,
      cpu: k < (l.missingGauges ?? 0) ? null : Math.max(0, cpu * (1 + noise * (2 * random() - 1))),
      requests: Math.round(((l.rps ?? 0) * WINDOW_MS) / 1000 / running),
    }));
    const result = scalingController(state, [fleetWindow(i, fleet, { complete: l.complete ?? true })], policy, windowEnd(i));
    state = result.state;
    if (result.proposal !== null) {
      const replicas = replicasSchema.parse(result.proposal.parts.replicas);
      assert.equal(result.proposal.kind, "scaling");
      assert.ok(result.reason.length > 0 && result.evidence.length > 0);
      out.proposals.push({ i, count: replicas.count, seen: running, mode: replicas.mode, reason: result.reason });
      if (replicas.mode === "apply") pending.push({ at: i + lag, count: replicas.count });
    }
  }
  return { ...out, final: state };
}

const WINDOWS_PER_STABILIZATION = 300_000 / WINDOW_MS;

const scenarios: { name: string; policy: ScalingPolicy; start: number; windows: number; load: (i: number) => Load; noise?: number; check: (r: Run) => void }[] = [
  {
    name: "noisy but healthy: CPU within ±8% of the target never scales",
    policy: cpuPolicy,
    start: 4,
    windows: 200,
    noise: 0.08,
    load: () => ({ demand: 4 * 0.7 }),
    check: (r) => assert.deepEqual(r.proposals, []),
  },
  {
    name: "CPU 90% against 70% on 4 replicas scales up to ceil(4 x 0.9 / 0.7) = 6, once",
    policy: cpuPolicy,
    start: 4,
    windows: 20,
    load: () => ({ demand: 4 * 0.9 }),
    check: (r) => {
      assert.equal(r.proposals.length, 1);
      assert.deepEqual([r.proposals[0]!.i, r.proposals[0]!.count, r.proposals[0]!.mode], [0, 6, "apply"]);
      assert.match(r.proposals[0]!.reason, /^CPU at 90% against a 70% target on 4 replicas recommends 6; scaling up to 6 replicas\.$/);
    },
  },
  {
    name: "a load spike is met in steps of at most max(100%, 4 replicas) per 15 s, never beyond, while pods start",
    policy: cpuPolicy,
    start: 2,
    windows: 30,
    load: () => ({ demand: 20 }),
    check: (r) => {
      assert.deepEqual(r.proposals.map((p) => p.count), [6, 12, 24, 29]);
      for (const p of r.proposals) assert.ok(p.count <= Math.max(2 * p.seen, p.seen + 4), `${p.count} from ${p.seen}`);
      assert.match(r.proposals[0]!.reason, /limited to 6 \(100% or 4 more per 15 s\)/);
    },
  },
  {
    name: "scale-down waits for 300 s of low recommendations after the load drops, then goes to their highest",
    policy: cpuPolicy,
    start: 8,
    windows: 80,
    load: (i) => ({ demand: i < 40 ? 8 * 0.7 : i < 45 ? 4 * 0.7 : 2 * 0.7 }),
    check: (r) => {
      // Windows 40-44 recommend 4, 45+ recommend 2; the first scale-down is 300 s after window 39's recommendation of 8.
      assert.equal(r.proposals[0]!.count, 4);
      assert.equal(r.proposals[0]!.i, 39 + WINDOWS_PER_STABILIZATION);
      assert.ok(r.proposals.every((p) => p.count < 8));
      assert.equal(r.proposals[r.proposals.length - 1]!.count, 2);
    },
  },
  {
    name: "a new target (or a wiped state) does not scale down before it has watched 300 s of windows",
    policy: cpuPolicy,
    start: 10,
    windows: 40,
    load: () => ({ demand: 1 }),
    check: (r) => {
      // Windows 0-29 are 300 s: the scale-down comes with window 29, not before.
      assert.equal(r.proposals[0]!.i, WINDOWS_PER_STABILIZATION - 1);
      assert.equal(r.proposals[0]!.count, 2);
    },
  },
  {
    name: "flapping load (high, low, high, ...) scales up but never oscillates down",
    policy: cpuPolicy,
    start: 4,
    windows: 120,
    load: (i) => ({ demand: i % 2 === 0 ? 4 * 1.2 : 4 * 0.3 }),
    check: (r) => {
      assert.ok(r.proposals.length >= 1);
      for (let k = 1; k < r.proposals.length; k++) assert.ok(r.proposals[k]!.count >= r.proposals[k - 1]!.count, "no scale-down");
    },
  },
  {
    name: "metric gaps (no aggregates for minutes) do not count as low load",
    policy: cpuPolicy,
    start: 6,
    windows: 100,
    load: (i) => (i >= 5 && i < 90 ? { demand: null } : { demand: 6 * 0.7 }),
    check: (r) => assert.deepEqual(r.proposals, []),
  },
  {
    name: "incomplete windows are not judged",
    policy: cpuPolicy,
    start: 4,
    windows: 10,
    load: () => ({ demand: 8, complete: false }),
    check: (r) => assert.deepEqual(r.proposals, []),
  },
  {
    name: "missing gauges count as 0% on a scale-up; when that flips the direction nothing changes (HPA)",
    policy: cpuPolicy,
    start: 4,
    windows: 10,
    // Two pods report 95% (ratio 1.36), two report nothing: 1.9 / (4 x 0.7) = 0.68 flips it.
    load: () => ({ demand: 4 * 0.95, missingGauges: 2 }),
    check: (r) => assert.deepEqual(r.proposals, []),
  },
  {
    name: "low traffic: 1 request per second on 3 replicas against 50 per replica goes down to minReplicas, after stabilization",
    policy: policyWith({ scaling: { enabled: true, targetCpuUtilization: null, targetRequestsPerReplica: 50 } }).scaling,
    start: 3,
    windows: 40,
    load: () => ({ demand: 0, rps: 1 }),
    check: (r) => {
      assert.equal(r.proposals.length, 1);
      assert.deepEqual([r.proposals[0]!.i, r.proposals[0]!.count], [WINDOWS_PER_STABILIZATION - 1, 1]);
      assert.match(r.proposals[0]!.reason, /req\/s per replica against a target of 50/);
    },
  },
  {
    name: "several metrics: the largest recommendation wins (requests ask 10, CPU asks 5)",
    policy: policyWith({ scaling: { enabled: true, targetRequestsPerReplica: 100 } }).scaling,
    start: 4,
    windows: 2,
    load: () => ({ demand: 4 * 0.85, rps: 1000 }),
    check: (r) => assert.deepEqual(r.proposals.map((p) => p.count), [8]),
  },
  {
    name: "an autoscaler owns the count: the same recommendations are published with mode recommend",
    policy: policyWith({ scaling: { enabled: true, ownedByAutoscaler: true } }).scaling,
    start: 4,
    windows: 3,
    load: () => ({ demand: 4 * 0.9 }),
    check: (r) => {
      assert.deepEqual(r.proposals.map((p) => [p.count, p.mode]), [[6, "recommend"]]);
      assert.match(r.proposals[0]!.reason, /recommending 6 replicas for the autoscaler that owns them/);
    },
  },
  {
    name: "maxReplicas caps every recommendation",
    policy: policyWith({ scaling: { enabled: true, maxReplicas: 5 } }).scaling,
    start: 4,
    windows: 10,
    load: () => ({ demand: 40 }),
    check: (r) => assert.deepEqual(r.proposals.map((p) => p.count), [5]),
  },
  {
    name: "disabled by default: nothing is proposed",
    policy: policyWith().scaling,
    start: 4,
    windows: 5,
    load: () => ({ demand: 40 }),
    check: (r) => assert.deepEqual(r.proposals, []),
  },
];

for (const s of scenarios) {
  test(`scaling: ${s.name}`, () => s.check(run(s.policy, s.start, s.windows, s.load, 2, s.noise ?? 0)));
}

test("scaling: the state survives JSON (as stored in Redis) and continues the same", () => {
  const load = (i: number): Load => ({ demand: i < 10 ? 12 : 1 });
  const straight = run(cpuPolicy, 2, 60, load);
  const json = JSON.parse(JSON.stringify(straight.final)) as ScalingState;
  assert.deepEqual(json, straight.final);
});

test("scaling: evaluateTarget publishes a valid decision with the replica count, and a held proposal is proposed again", () => {
  const policy = policyWith({ scaling: { enabled: true } });
  let state = initialTargetState(target);
  const fleet = pods(4, { cpu: 0.9, requests: 100 });
  const first = evaluateTarget(state, [fleetWindow(0, fleet)], policy, initialGlobalState());
  assert.equal(first.action?.kind, "scaling");
  const decision = decisionSchema.parse(first.decision);
  assert.deepEqual(decision.desiredState.replicas, { count: 6, mode: "apply" });
  assert.deepEqual(decision.controllers, ["scaling"]);
  assert.ok(decision.evidence.some((e) => e.metric === "cpu-utilization" && e.threshold === 0.7));
  assert.equal(first.state.scaling?.commanded, 6);
  // Frozen: held, nothing remembered as commanded; after the freeze it is proposed again.
  state = { ...initialTargetState(target), frozen: { by: "alice", reason: "incident" } };
  const held = evaluateTarget(state, [fleetWindow(0, fleet)], policy, initialGlobalState());
  assert.equal(held.decision, null);
  assert.equal(held.state.scaling?.commanded, null);
  const again = evaluateTarget({ ...held.state, frozen: null }, [fleetWindow(1, fleet)], policy, initialGlobalState());
  assert.equal(again.decision?.desiredState.replicas?.count, 6);
  // A state stored before the scaling controller existed has no scaling field: it starts from the initial state.
  const { scaling: _dropped, ...old } = initialTargetState(target);
  const legacy = evaluateTarget(old, [fleetWindow(0, fleet)], policy, initialGlobalState());
  assert.equal(legacy.decision?.desiredState.replicas?.count, 6);
});

// Property: over random load, lags, gaps and incomplete windows, every scale-up stays within max(100%, 4) of the
// replicas at the start of its 15 s period, and no scale-down goes below a recommendation of the last 300 s or comes
// before 300 s of windows were seen.
test("scaling property: never beyond the scale-up limit, never a scale-down inside the stabilization window", () => {
  const step = fc.record({
    // Demand drifts (so scale-downs happen and stabilization is tested), sometimes jumps, sometimes is missing.
    demand: fc.oneof(
      { weight: 30, arbitrary: fc.double({ min: 0.85, max: 1.1, noNaN: true }).map((f) => ({ drift: f })) },
      { weight: 1, arbitrary: fc.double({ min: 0, max: 60, noNaN: true }).map((d) => ({ jump: d })) },
      { weight: 2, arbitrary: fc.constant(null) },
    ),
    complete: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    missingGauges: fc.oneof({ weight: 30, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
    advance: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 12 }) }),
  });
  const arb = fc.record({
    start: fc.integer({ min: 1, max: 20 }),
    lag: fc.integer({ min: 0, max: 4 }),
    perReplica: fc.constantFrom(null, 50, 200),
    steps: fc.array(step, { minLength: 40, maxLength: 120 }),
  });
  let totalDowns = 0;
  fc.assert(
    fc.property(arb, ({ start, lag, perReplica, steps }) => {
      const policy = policyWith({ scaling: { enabled: true, maxReplicas: 10_000, targetRequestsPerReplica: perReplica } }).scaling;
      let state = initialScalingState();
      let running = start;
      let published = start;
      let index = 0;
      let firstJudgedEnd: number | null = null;
      let demand = start * 0.7;
      let downs = 0;
      const pending: { at: number; count: number }[] = [];
      const history: { atMs: number; count: number }[] = [];
      const ups: { atMs: number; from: number; to: number }[] = [];
      for (const s of steps) {
        index += s.advance;
        while (pending.length > 0 && pending[0]!.at <= index) running = pending.shift()!.count;
        if (s.demand === null) continue;
        demand = "jump" in s.demand ? s.demand.jump : demand * s.demand.drift;
        const now = windowEnd(index);
        const fleet = pods(running, {}).map((p, k) => ({ ...p, cpu: k < s.missingGauges ? null : demand / running, requests: Math.round((demand * 100 * 10) / running) }));
        const out = scalingController(state, [fleetWindow(index, fleet, { complete: s.complete })], policy, now);
        const rec = out.state.recommendations.find(([at]) => at === now);
        if (rec !== undefined) {
          history.push({ atMs: now, count: rec[1] });
          firstJudgedEnd ??= now;
        }
        const count = out.proposal?.parts.replicas?.count;
        if (count !== undefined) {
          const recent = ups.filter((u) => u.atMs > now - policy.scaleUpPeriod);
          const base = recent[0]?.from ?? running;
          if (count > running) {
            assert.ok(count <= Math.max(2 * base, base + 4), `${count} from ${base} (running ${running})`);
            ups.push({ atMs: now, from: running, to: count });
          }
          if (count < published) {
            downs++;
            assert.ok(firstJudgedEnd !== null && firstJudgedEnd - WINDOW_MS <= now - policy.scaleDownStabilization, "scale-down before 300 s were seen");
            const window = history.filter((h) => h.atMs > now - policy.scaleDownStabilization);
            for (const h of window) assert.ok(count >= h.count, `down to ${count} below a recommendation of ${h.count} at ${h.atMs}`);
          }
          published = count;
          pending.push({ at: index + lag, count });
        }
        state = out.state;
      }
      totalDowns += downs;
    }),
    { numRuns: 300 },
  );
  assert.ok(totalDowns >= 50, `only ${totalDowns} scale-downs over all runs: the property tested too little`);
});
