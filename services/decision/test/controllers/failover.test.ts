import assert from "node:assert/strict";
import { test } from "node:test";
import { decisionSchema, failoverSchema } from "@meshloop/contracts";
import type { Decision, Failover, Mesh } from "@meshloop/contracts";
import { evaluateTarget, failoverController, initialFailoverState, initialGlobalState, initialTargetState, policyWith } from "../../src/index.ts";
import type { FailoverSettings, FailoverState } from "../../src/index.ts";
import { target } from "../support/aggregates.ts";
import { fleetWindow, windowEnd } from "../support/fleet.ts";
import type { Pod } from "../support/fleet.ts";

const A = "eu-west-1/eu-west-1a";
const B = "eu-west-1/eu-west-1b";
const C = "eu-west-1/eu-west-1c";

function settings(mesh: Mesh = "istio", overrides: Partial<FailoverSettings> = {}): FailoverSettings {
  return { ...policyWith({ failover: { enabled: true } }).failover, mesh, ...overrides };
}

/** One window with a pod per zone: `errors` is each zone's error share (missing: healthy), `requests` its volume. */
function zones(i: number, errors: Record<string, number>, requests: Record<string, number> = {}): ReturnType<typeof fleetWindow> {
  const pods: Pod[] = ["a", "b", "c"].map((z) => {
    const n = requests[z] ?? 500;
    return { instance: `pod-${z}`, requests: n, errors: Math.round(n * (errors[z] ?? 0.001)), locality: { zone: `eu-west-1${z}` } };
  });
  return fleetWindow(i, pods);
}

interface Step {
  readonly failover: Failover | null;
  readonly i: number;
  readonly reason: string;
}

/** Runs windows through the controller; every proposal is taken (as if applied), and returned in order. */
function run(windows: readonly ((i: number) => ReturnType<typeof fleetWindow>)[], policy = settings(), start: FailoverState = initialFailoverState()) {
  let state = start;
  const steps: Step[] = [];
  const reasons: string[] = [];
  windows.forEach((make, i) => {
    const out = failoverController(state, [make(i)], policy, windowEnd(i));
    state = out.state;
    reasons.push(out.reason);
    if (out.proposal !== null) {
      assert.equal(out.proposal.kind, "failover");
      const failover = out.proposal.parts.failover ?? null;
      if (failover !== null) failoverSchema.parse(failover);
      steps.push({ failover, i, reason: out.reason });
    }
  });
  return { steps, state, reasons };
}

const failingA = (i: number) => zones(i, { a: 0.2 });
const healthy = (i: number) => zones(i, {});

test("a zone failing for unhealthyWindows windows while others are healthy has its traffic spread over them by volume", () => {
  const { steps } = run([failingA, failingA, failingA], settings("istio"), initialFailoverState());
  assert.equal(steps.length, 1, "one failover, not one per window");
  assert.equal(steps[0]!.i, 1, "after the second failing window, not the first");
  assert.deepEqual(steps[0]!.failover, { kind: "distribute", fromLocality: A, distribution: { [B]: 50, [C]: 50 } });
  assert.match(steps[0]!.reason, /^Locality eu-west-1\/eu-west-1a has served only 80%/);
});

test("Consul gets an ordered failover list instead of weights (it has no weighted distribution)", () => {
  const { steps } = run([failingA, failingA], settings("consul"));
  assert.equal(steps[0]!.failover?.kind, "failover");
  assert.deepEqual(steps[0]!.failover?.kind === "failover" ? steps[0]!.failover.toLocalities.sort() : [], [B, C]);
});

test("one failing window between healthy ones moves nothing: the run restarts", () => {
  const { steps } = run([failingA, healthy, failingA, healthy, failingA]);
  assert.equal(steps.length, 0);
});

test("every zone failing moves nothing: the fault is not local", () => {
  const all = (i: number) => zones(i, { a: 0.2, b: 0.3, c: 0.25 });
  const { steps, reasons } = run([all, all, all]);
  assert.equal(steps.length, 0);
  assert.match(reasons[2]!, /not local/);
});

test("a zone with too little traffic is not judged, and cannot take traffic over", () => {
  const quiet = (i: number) => zones(i, { a: 0.5 }, { a: 20 });
  assert.equal(run([quiet, quiet, quiet]).steps.length, 0);
  // Only b has volume besides the failing a: c (quiet) gets nothing.
  const onlyB = (i: number) => zones(i, { a: 0.2 }, { c: 10 });
  const { steps } = run([onlyB, onlyB]);
  assert.deepEqual(steps[0]!.failover, { kind: "distribute", fromLocality: A, distribution: { [B]: 100 } });
});

test("traffic goes back after recoveryWindows healthy windows (hysteresis: 97% success is not enough)", () => {
  const policy = settings("istio", { recoveryWindows: 3 });
  const almost = (i: number) => zones(i, { a: 0.03 });
  const { steps } = run([failingA, failingA, almost, almost, almost, healthy, healthy, healthy, healthy], policy);
  assert.equal(steps.length, 2);
  assert.equal(steps[1]!.failover, null);
  assert.equal(steps[1]!.i, 7, "three healthy windows after the 97% ones");
  assert.match(steps[1]!.reason, /healthy .* for 3 windows/);
});

test("without evidence, traffic goes back after the hold time to probe, and the next failover holds twice as long", () => {
  const policy = settings("istio", { holdTime: 60_000, maxHoldTime: 600_000 });
  // The failed-over zone gets no traffic (no evidence of recovery); 10 s windows.
  const silentA = (i: number) => zones(i, {}, { a: 0 });
  const windows = [failingA, failingA, ...Array.from({ length: 8 }, () => silentA), failingA, failingA, ...Array.from({ length: 14 }, () => silentA)];
  const { steps } = run(windows, policy);
  assert.deepEqual(steps.map((s) => [s.i, s.failover === null ? "back" : "away"]), [[1, "away"], [7, "back"], [11, "away"], [23, "back"]]);
  assert.match(steps[2]!.reason, /for up to 2 min/);
});

test("through evaluateTarget the failover is a valid decision of the failover controller", () => {
  let state = initialTargetState(target);
  const policy = policyWith({ failover: { enabled: true }, guardrails: { cooldown: "1s" } });
  let decision: Decision | null = null;
  for (let i = 0; i < 2; i++) {
    const out = evaluateTarget(state, [failingA(i)], policy, initialGlobalState());
    state = out.state;
    decision = out.decision ?? decision;
  }
  assert.ok(decision !== null);
  decisionSchema.parse(decision);
  assert.deepEqual(decision.controllers, ["failover"]);
  assert.equal(decision.desiredState.failover?.fromLocality, A);
  assert.ok(decision.evidence.some((e) => e.metric === "locality-success-rate" && e.value < 0.95));
});
