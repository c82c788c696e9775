import assert from "node:assert/strict";
import { test } from "node:test";
import { decisionSchema, weightsSchema } from "@meshloop/contracts";
import { evaluateTarget, initialGlobalState, initialRoutingState, initialTargetState, policyWith, routingController } from "../../src/index.ts";
import type { RoutingSettings, TargetState } from "../../src/index.ts";
import { lognormalLatencies, rng, target } from "../support/aggregates.ts";
import { fleetWindow, windowEnd } from "../support/fleet.ts";

const base = policyWith({ routing: { enabled: true } }).routing;

interface Behaviour {
  readonly p50: number;
  readonly errorRate?: number;
}

/** A closed loop: each version gets its weight's share of 1,000 requests a window; every proposal is applied. */
function run(behaviour: Record<string, Behaviour>, windows: number, start: Record<string, number>, overrides: Partial<RoutingSettings> = {}, seed = 1) {
  const random = rng(seed);
  let state = initialRoutingState();
  let weights = { ...start };
  const changes: { i: number; weights: Record<string, number>; reason: string }[] = [];
  for (let i = 0; i < windows; i++) {
    const pods = Object.entries(behaviour).map(([version, b]) => {
      const requests = Math.round((1000 * (weights[version] ?? 0)) / 100);
      return { instance: `${version}-0`, version, requests, errors: Math.round(requests * (b.errorRate ?? 0)), latencies: lognormalLatencies(random, requests, b.p50, 0.3) };
    });
    const out = routingController(state, [fleetWindow(i, pods)], { ...base, canaryActive: false, current: weights, ...overrides }, windowEnd(i));
    state = out.state;
    if (out.proposal !== null) {
      assert.equal(out.proposal.kind, "weight-shift");
      weights = weightsSchema.parse(out.proposal.parts.weights);
      changes.push({ i, weights, reason: out.reason });
    }
  }
  return { changes, weights };
}

test("a slower version loses traffic step by step (at most maxStep points each) down to what the scores say", () => {
  const { changes, weights } = run({ v1: { p50: 20 }, v2: { p50: 60 } }, 20, { v1: 50, v2: 50 });
  assert.ok(changes.length >= 2, JSON.stringify(changes));
  let previous = 50;
  for (const c of changes) {
    assert.ok(previous - c.weights.v2! <= 10, `step of ${previous - c.weights.v2!} points`);
    assert.ok(c.weights.v2! < previous, "always away from the slower version");
    previous = c.weights.v2!;
  }
  // Scores 1/20 and 1/60 give 75/25; the dead band stops within 5 points of it.
  assert.ok(weights.v2! >= 25 && weights.v2! <= 30, JSON.stringify(weights));
  assert.match(changes[0]!.reason, /v2 50→40/);
});

test("errors weigh in: 10% errors costs a version two thirds of its share; 50% takes it to the floor, never below", () => {
  // Penalty 20: 10% errors triple the cost, so v2's share is 1/7 of the traffic (about 14%).
  const some = run({ v1: { p50: 20 }, v2: { p50: 20, errorRate: 0.1 }, v3: { p50: 20 } }, 40, { v1: 34, v2: 33, v3: 33 });
  assert.ok(some.weights.v2! >= 10 && some.weights.v2! <= 20, JSON.stringify(some.weights));
  const many = run({ v1: { p50: 20 }, v2: { p50: 20, errorRate: 0.5 }, v3: { p50: 20 } }, 40, { v1: 34, v2: 33, v3: 33 });
  assert.ok(many.weights.v2! <= base.minWeight + base.deadBand, JSON.stringify(many.weights));
  for (const c of many.changes) assert.ok(c.weights.v2! >= base.minWeight, JSON.stringify(c.weights));
});

test("equal versions with noisy latency are left alone (dead band), over many seeds", () => {
  let changes = 0;
  for (let seed = 1; seed <= 30; seed++) changes += run({ v1: { p50: 30 }, v2: { p50: 30 } }, 30, { v1: 50, v2: 50 }, {}, seed).changes.length;
  assert.equal(changes, 0);
});

test("a running canary owns the weights; a drained version is never brought back", () => {
  assert.equal(run({ v1: { p50: 20 }, v2: { p50: 60 } }, 10, { v1: 50, v2: 50 }, { canaryActive: true }).changes.length, 0);
  const { weights } = run({ v1: { p50: 60 }, v2: { p50: 20 }, v3: { p50: 5 } }, 20, { v1: 50, v2: 50, v3: 0 });
  assert.equal(weights.v3, 0);
});

test("through evaluateTarget it is a valid decision of the routing controller, spaced by the cooldown", () => {
  const random = rng(2);
  const policy = policyWith({ routing: { enabled: true }, guardrails: { cooldown: "30s" } });
  let state: TargetState = { ...initialTargetState(target), desired: { ...initialTargetState(target).desired, weights: { v1: 50, v2: 50 } } };
  const decisions = [];
  for (let i = 0; i < 12; i++) {
    const w = state.desired.weights!;
    const pods = [
      { instance: "a", version: "v1", requests: 10 * w.v1!, latencies: lognormalLatencies(random, 10 * w.v1!, 20, 0.3) },
      { instance: "b", version: "v2", requests: 10 * w.v2!, latencies: lognormalLatencies(random, 10 * w.v2!, 80, 0.3) },
    ];
    const out = evaluateTarget(state, [fleetWindow(i, pods)], policy, initialGlobalState());
    state = out.state;
    if (out.decision !== null) decisions.push(decisionSchema.parse(out.decision));
  }
  assert.ok(decisions.length >= 2);
  assert.deepEqual(decisions[0]!.controllers, ["routing"]);
  for (let k = 1; k < decisions.length; k++) assert.ok(decisions[k]!.windowEndMs - decisions[k - 1]!.windowEndMs >= 30_000, "cooldown between shifts");
  assert.ok(decisions[0]!.evidence.some((e) => e.metric === "latency-p50-ewma" && e.note === "v2"));
});
