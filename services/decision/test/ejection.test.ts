import assert from "node:assert/strict";
import { test } from "node:test";
import { decisionSchema } from "@meshloop/contracts";
import {
  ejectionController,
  evaluateTarget,
  initialEjectionState,
  initialGlobalState,
  initialTargetState,
  policyWith,
} from "../src/index.ts";
import type { EjectionSettings, EjectionState, Evaluation, TargetState } from "../src/index.ts";
import { instancesWindow, T0, target, WINDOW_MS } from "./support/aggregates.ts";
import type { InstanceWindow } from "./support/aggregates.ts";

const settings: EjectionSettings = { ...policyWith({ ejection: { enabled: true } }).ejection, mesh: "lab" };

function run(state: EjectionState, i: number, instances: InstanceWindow[], policy = settings) {
  return ejectionController(state, [instancesWindow(T0 + i * WINDOW_MS, instances)], policy, T0 + (i + 1) * WINDOW_MS);
}

function fleet(n: number, requests: number, errors: (k: number) => number): InstanceWindow[] {
  return Array.from({ length: n }, (_, k) => ({ instance: `pod-${k}`, requests, errors: errors(k) }));
}

test("success-rate rule as Envoy: rates {50, 100, 100, 100, 100} give mean 90 and threshold 52, ejecting the 50", () => {
  const out = run(initialEjectionState(), 0, fleet(5, 100, (k) => (k === 0 ? 50 : 0)), { ...settings, maxEjectionPercent: 20 });
  assert.ok(out.proposal !== null);
  const evidence = out.evidence.find((e) => e.metric === "success-rate")!;
  assert.ok(Math.abs(evidence.threshold! - 0.52) < 1e-9);
  assert.equal(evidence.value, 0.5);
  const eject = out.proposal.parts.ejection!.ejectInstances;
  assert.deepEqual(eject.map((e) => e.instanceId), ["pod-0"]);
  assert.equal(eject[0]!.leaseExpiresAt, new Date(T0 + WINDOW_MS + 30_000).toISOString(), "30 s base ejection");
});

test("the success-rate rule needs 5 instances with 100 requests each", () => {
  assert.equal(run(initialEjectionState(), 0, fleet(4, 100, (k) => (k === 0 ? 50 : 0))).proposal, null);
  assert.equal(run(initialEjectionState(), 0, fleet(6, 99, (k) => (k === 0 ? 50 : 0))).proposal, null);
});

test("consecutive failures across windows eject; a window with successes resets the run", () => {
  const pods = (errors: number, requests: number) => [{ instance: "bad", requests, errors }, ...fleet(9, 20, () => 0)];
  let state = run(initialEjectionState(), 0, pods(3, 3)).heldState;
  const second = run(state, 1, pods(2, 2));
  assert.deepEqual(second.proposal?.parts.ejection?.ejectInstances.map((e) => e.instanceId), ["bad"]);
  assert.match(second.reason, /5 consecutive failures/);
  state = run(initialEjectionState(), 0, pods(3, 3)).state;
  state = run(state, 1, pods(1, 2)).state;
  assert.equal(run(state, 2, pods(3, 3)).proposal, null, "the run restarted at 3");
});

test("never more than the maximum share ejected, but at least one, and never the only instance", () => {
  // 20 instances, 10%: two of the four failing ones.
  const out = run(initialEjectionState(), 0, fleet(20, 100, (k) => (k < 4 ? 100 : 0)));
  assert.equal(out.proposal?.parts.ejection?.ejectInstances.length, 2);
  assert.ok(out.evidence.some((e) => e.metric === "ejected-share-cap"));
  // 3 instances: 10% rounds to 0, but one is always ejectable.
  assert.equal(run(initialEjectionState(), 0, fleet(3, 100, (k) => (k === 0 ? 100 : 0))).proposal?.parts.ejection?.ejectInstances.length, 1);
  assert.equal(run(initialEjectionState(), 0, fleet(1, 100, () => 100)).proposal, null);
});

test("ejection time grows with consecutive ejections (30, 60, 90 s ...) and is capped at 300 s", () => {
  let state = initialEjectionState();
  const leases: number[] = [];
  let i = 0;
  // A backend that fails whenever it gets traffic.
  while (leases.length < 12 && i < 2000) {
    const ejected = state.instances.find((r) => r.instance === "bad")?.ejectedUntilMs ?? null;
    const now = T0 + (i + 1) * WINDOW_MS;
    const bad = ejected !== null && ejected > T0 + i * WINDOW_MS ? [] : [{ instance: "bad", requests: 10, errors: 10 }];
    const out = run(state, i, [...bad, ...fleet(9, 100, () => 0)]);
    if (out.proposal !== null) {
      const lease = out.proposal.parts.ejection!.ejectInstances.find((e) => e.instanceId === "bad")!;
      leases.push(Date.parse(lease.leaseExpiresAt) - now);
    }
    state = out.state;
    i++;
  }
  assert.deepEqual(leases.slice(0, 11), [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300].map((s) => s * 1000));
});

test("half-open: after the lease, one failing probe window ejects again; each 30 s of health then takes one off the multiplier", () => {
  let state = run(initialEjectionState(), 0, [{ instance: "bad", requests: 10, errors: 10 }, ...fleet(9, 100, () => 0)]).state;
  assert.equal(state.instances.find((r) => r.instance === "bad")!.ejections, 1);
  // Lease of 30 s: windows 1-3 it is out; at window 4 it is back on probation and fails half its requests.
  for (let i = 1; i <= 3; i++) state = run(state, i, fleet(9, 100, () => 0)).state;
  const probe = run(state, 4, [{ instance: "bad", requests: 10, errors: 6 }, ...fleet(9, 100, () => 0)]);
  assert.match(probe.reason, /failing on probation/);
  assert.equal(probe.state.instances.find((r) => r.instance === "bad")!.ejections, 2);
  // Healthy after the second ejection: probation passes, then one step of decay per window.
  state = probe.state;
  for (let i = 5; i <= 10; i++) state = run(state, i, fleet(9, 100, () => 0)).state;
  for (let i = 11; i <= 16; i++) state = run(state, i, [{ instance: "bad", requests: 100, errors: 0 }, ...fleet(9, 100, () => 0)]).state;
  assert.equal(state.instances.find((r) => r.instance === "bad")!.ejections, 0);
});

test("a flapping backend is ejected for longer and longer instead of oscillating (through the guardrails)", () => {
  const policy = policyWith({ ejection: { enabled: true } });
  let state: TargetState = initialTargetState(target);
  let global = initialGlobalState();
  const ejectionDecisions: Evaluation[] = [];
  for (let i = 0; i < 360; i++) {
    const now = T0 + (i + 1) * WINDOW_MS;
    const ejected = state.desired.ejection?.ejectInstances.some((e) => e.instanceId === "flaky" && Date.parse(e.leaseExpiresAt) > now - WINDOW_MS) ?? false;
    // Flaps: fails for 2 windows, healthy for 2, whenever it has traffic.
    const failing = i % 4 < 2;
    const flaky = ejected ? [] : [{ instance: "flaky", requests: 100, errors: failing ? 100 : 0 }];
    const out = evaluateTarget(state, [instancesWindow(T0 + i * WINDOW_MS, [...flaky, ...fleet(9, 100, () => 1)])], policy, global);
    if (out.decision !== null) {
      decisionSchema.parse(out.decision);
      if (out.decision.controllers.includes("ejection")) ejectionDecisions.push(out);
    }
    state = out.state;
    global = out.global;
  }
  const leases = ejectionDecisions.map((e) => Date.parse(e.decision!.desiredState.ejection!.ejectInstances[0]!.leaseExpiresAt) - e.decision!.windowEndMs);
  // An hour of flapping every 2 windows: leases 30, 60, ... 300 s, then 300 s each (at most ~17 ejections), instead
  // of one per flap (90 in the hour).
  assert.ok(ejectionDecisions.length <= 18, `${ejectionDecisions.length} ejections in an hour`);
  for (let k = 1; k < leases.length; k++) assert.ok(leases[k]! >= leases[k - 1]!, `lease ${k} shrank: ${leases.join(", ")}`);
  assert.equal(leases.at(-1), 300_000);
});

test("a mesh that cannot eject a chosen instance gets tightened settings under a lease, then the policy's again", () => {
  const istio: EjectionSettings = { ...settings, mesh: "istio" };
  const out = run(initialEjectionState(), 0, fleet(10, 100, (k) => (k === 0 ? 100 : 0)), istio);
  const ejection = out.proposal!.parts.ejection!;
  assert.deepEqual(ejection.ejectInstances, []);
  assert.equal(ejection.consecutive5xx, 3);
  assert.equal(ejection.baseEjectionTimeMs, 60_000);
  assert.match(out.reason, /cannot eject a chosen instance/);
  let state = out.state;
  let restored = null;
  for (let i = 1; i < 10 && restored === null; i++) {
    const next = run(state, i, fleet(10, 100, () => 0), istio);
    state = next.state;
    if (next.proposal !== null) restored = next;
  }
  assert.ok(restored !== null);
  assert.equal(restored.proposal!.parts.ejection!.consecutive5xx, 5);
});
