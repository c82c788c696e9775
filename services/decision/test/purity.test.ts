// The core is pure: it never mutates its inputs, the same inputs give the same outputs, and a state that went
// through JSON (as the service stores it in Redis) continues exactly as the one that stayed in memory.
import assert from "node:assert/strict";
import { test } from "node:test";
import { canaryCommand, evaluateTarget, initialGlobalState, policyWith } from "../src/index.ts";
import type { TargetState } from "../src/index.ts";
import { rng, T0, trafficWindow, WINDOW_MS } from "./support/aggregates.ts";
import { healthy, simulate, steady } from "./support/simulate.ts";

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

const policy = policyWith({ canary: { enabled: true }, ejection: { enabled: true }, retries: { enabled: true } });

test("evaluations never mutate their inputs (everything deep-frozen)", () => {
  const trace = simulate({ seed: 1, windows: 15, policy, rps: steady(200), behaviour: () => healthy });
  const random = rng(2);
  let state: TargetState = deepFreeze(structuredClone(trace.final));
  for (let i = 15; i < 40; i++) {
    const weights = state.desired.weights ?? { v1: 100 };
    const window = deepFreeze(trafficWindow(random, T0 + i * WINDOW_MS, 2000, weights, () => healthy));
    const out = evaluateTarget(state, deepFreeze([window]), deepFreeze(structuredClone(policy)), deepFreeze(initialGlobalState()));
    state = deepFreeze(out.state);
  }
});

test("the same inputs give the same decisions, byte for byte", () => {
  const a = simulate({ seed: 7, windows: 120, policy, rps: steady(100), behaviour: () => healthy });
  const b = simulate({ seed: 7, windows: 120, policy, rps: steady(100), behaviour: () => healthy });
  assert.ok(a.decisions.length >= 4);
  assert.equal(JSON.stringify(a.decisions), JSON.stringify(b.decisions));
});

test("a state stored as JSON and loaded again (a restart) continues at the same step with the same generations", () => {
  const scenario = { seed: 3, windows: 120, policy, rps: steady(150), behaviour: () => healthy };
  const straight = simulate(scenario).decisions.map((d) => JSON.stringify(d));
  assert.ok(straight.length >= 5, `${straight.length} decisions`);
  for (const restartAt of [[4], [10, 11], [25, 60, 61, 90]]) {
    assert.deepEqual(simulate({ ...scenario, restartAt }).decisions.map((d) => JSON.stringify(d)), straight);
  }
});

test("an operator can start a canary of a version that was rolled back before", () => {
  const bad = simulate({ seed: 2, windows: 100, policy: policyWith({ canary: { enabled: true } }), rps: steady(100), behaviour: (v) => (v === "v2" ? { ...healthy, errorRate: 0.1 } : healthy), stopAtOutcome: true });
  assert.equal(bad.outcome?.kind, "rolled-back");
  const started = canaryCommand(bad.final.canary, { command: "canary-start", version: "v2", operator: "carol" }, bad.final.lastWindowEndMs!);
  assert.equal(started.state.requestedStart?.version, "v2");
  assert.ok(!started.state.retired.includes("v2"));
  const state = { ...bad.final, canary: started.state };
  const window = trafficWindow(rng(4), bad.final.lastWindowEndMs!, 1000, { v1: 100 }, () => healthy, ["v1", "v2"]);
  const out = evaluateTarget(state, [window], policyWith({ canary: { enabled: true } }), initialGlobalState(), { now: bad.final.lastWindowEndMs! + 60_000 });
  assert.match(out.decision?.reason ?? "", /Requested canary of v2 detected; pinning v1 at 100%/);
});
