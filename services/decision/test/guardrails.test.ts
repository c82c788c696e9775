import assert from "node:assert/strict";
import { test } from "node:test";
import { decisionSchema, desiredStateSchema, pauseNoticeSchema } from "@meshloop/contracts";
import type { ActuationResult, ControlCommand, TargetRef } from "@meshloop/contracts";
import {
  ACTION_KINDS,
  applyControl,
  deadTimeMs,
  evaluateTarget,
  initialGlobalState,
  initialTargetState,
  nextGeneration,
  policyWith,
  recordActuation,
  selectAction,
} from "../src/index.ts";
import type { GlobalState, Proposal, TargetState } from "../src/index.ts";
import { instancesWindow, T0, target, WINDOW_MS, windowAggregate } from "./support/aggregates.ts";
import { healthy, simulate, steady } from "./support/simulate.ts";

function proposal(kind: Proposal["kind"], urgent = false): Proposal {
  return { controller: kind === "rollback" || kind === "weight-shift" ? "canary" : kind === "ejection" ? "ejection" : "scaling", kind, parts: {}, urgent, requiresApproval: false };
}

test("priority: rollback over ejection over weight shift over scaling", () => {
  assert.ok(ACTION_KINDS.indexOf("rollback") < ACTION_KINDS.indexOf("ejection"));
  assert.ok(ACTION_KINDS.indexOf("ejection") < ACTION_KINDS.indexOf("weight-shift"));
  assert.ok(ACTION_KINDS.indexOf("weight-shift") < ACTION_KINDS.indexOf("scaling"));
  const all = [
    { name: "scaling", proposal: proposal("scaling") },
    { name: "weights", proposal: proposal("weight-shift") },
    { name: "ejection", proposal: proposal("ejection") },
    { name: "canary", proposal: proposal("rollback", true) },
  ];
  const table: [number, string][] = [
    [4, "canary"],
    [3, "ejection"],
    [2, "weights"],
    [1, "scaling"],
  ];
  for (const [n, expected] of table) {
    const { winner, held } = selectAction(all.slice(0, n), () => null);
    assert.equal(winner?.name, expected);
    assert.equal(held.size, n - 1);
  }
  // A cooldown holds the non-urgent ones; the urgent rollback still goes, and a lower one does not sneak past it.
  const cooled = selectAction(all, (p) => (p.urgent ? null : "cooldown"));
  assert.equal(cooled.winner?.name, "canary");
  const noRollback = selectAction(all.slice(0, 3), (p) => (p.kind === "ejection" ? "cooldown" : null));
  assert.equal(noRollback.winner?.name, "weights", "a blocked proposal does not block the ones after it");
});

test("a canary rollback and an outlier ejection in the same window: the rollback goes out, the ejection waits", () => {
  const policy = policyWith({ canary: { enabled: true }, ejection: { enabled: true } });
  const trace = simulate({ seed: 1, windows: 12, policy, rps: steady(300), behaviour: () => healthy });
  const state = trace.final;
  assert.equal(state.canary.weight, 5);
  assert.ok(state.canary.effectiveFromMs !== null);
  const v1 = Array.from({ length: 10 }, (_, k) => ({ instance: `v1-${k}`, version: "v1", requests: 300, errors: k === 0 ? 100 : 1 }));
  const v2 = [0, 1].map((k) => ({ instance: `v2-${k}`, version: "v2", requests: 80, errors: 60 }));
  const window = instancesWindow(T0 + 12 * WINDOW_MS, [...v1, ...v2]);
  const out = evaluateTarget(state, [window], policy, initialGlobalState());
  decisionSchema.parse(out.decision);
  assert.deepEqual(out.decision?.controllers, ["canary"]);
  assert.deepEqual(out.decision?.desiredState.weights, { v1: 100, v2: 0 });
  assert.equal(out.action?.kind, "rollback");
  assert.equal(out.reports.find((r) => r.controller === "ejection")?.held, "canary's rollback goes first");
  // The ejection was not carried out, so the next window finds the outlier again and ejects it after the cooldown.
  let next = out.state;
  let ejected = null;
  for (let i = 13; i < 20 && ejected === null; i++) {
    const e = evaluateTarget(next, [instancesWindow(T0 + i * WINDOW_MS, v1)], policy, initialGlobalState());
    next = e.state;
    if (e.action?.kind === "ejection") ejected = { i, e };
  }
  assert.ok(ejected !== null);
  assert.ok((ejected.i + 1) * WINDOW_MS - 13 * WINDOW_MS >= 30_000, "after the 30 s cooldown");
  assert.deepEqual(ejected.e.decision?.desiredState.weights, { v1: 100, v2: 0 }, "full state: the rollback stays");
});

test("cooldowns are never shorter than the measured dead time", () => {
  const dead = deadTimeMs({ windowMs: 10_000, latenessMs: 5_000, completenessWaitMs: 5_000, actuationMs: 3_000, propagationMs: 97_000 });
  assert.equal(dead, 120_000);
  const policy = policyWith({ canary: { enabled: true, passingWindows: 1 }, guardrails: { cooldown: 10_000 } });
  const trace = simulate({ seed: 3, windows: 400, policy, rps: steady(300), behaviour: () => healthy, deadTimeMs: dead, stopAtOutcome: true });
  assert.equal(trace.outcome?.kind, "promoted");
  const ends = trace.decisions.map((d) => d.windowEndMs);
  for (let k = 1; k < ends.length; k++) assert.ok(ends[k]! - ends[k - 1]! >= dead, `decisions ${k - 1} and ${k} are ${ends[k]! - ends[k - 1]!} ms apart`);
});

test("the per-target limit of actions per minute holds even without a cooldown", () => {
  const policy = policyWith({ ejection: { enabled: true, maxEjectionPercent: 100 }, guardrails: { cooldown: 0, maxActionsPerMinute: 2 } });
  let state = initialTargetState(target);
  let global = initialGlobalState();
  const actions: number[] = [];
  for (let i = 0; i < 30; i++) {
    // A new instance starts failing every window.
    const pods = Array.from({ length: 30 }, (_, k) => ({ instance: `pod-${k}`, requests: 100, errors: k <= i ? 100 : 0 }));
    const out = evaluateTarget(state, [instancesWindow(T0 + i * WINDOW_MS, pods)], policy, global);
    if (out.action !== null) actions.push(out.decision!.windowEndMs);
    state = out.state;
    global = out.global;
  }
  assert.ok(actions.length >= 8);
  for (const t of actions) assert.ok(actions.filter((u) => u > t - 60_000 && u <= t).length <= 2);
});

test("the global budget holds actions across targets, announced once, and resumes when it has room", () => {
  const policy = policyWith({ retries: { enabled: true } });
  const targets: TargetRef[] = Array.from({ length: 8 }, (_, k) => ({ mesh: "lab", namespace: "shop", service: `svc-${k}` }));
  const states = new Map(targets.map((t) => [t.service, initialTargetState(t)]));
  let global: GlobalState = initialGlobalState();
  const acted: string[] = [];
  const notices = [];
  for (let i = 0; i < 8; i++) {
    for (const t of targets) {
      const window = windowAggregate({ startMs: T0 + i * WINDOW_MS, target: t, versions: { v1: { requests: 1000, errors: 20 } } });
      const out = evaluateTarget(states.get(t.service)!, [window], policy, global, { globalMaxActionsPerMinute: 3 });
      states.set(t.service, out.state);
      global = out.global;
      notices.push(...out.notices);
      if (out.action !== null) acted.push(`${i}:${t.service}`);
    }
  }
  for (const n of notices) pauseNoticeSchema.parse(n);
  assert.deepEqual(acted.slice(0, 3), ["0:svc-0", "0:svc-1", "0:svc-2"]);
  assert.ok(acted.filter((a) => Number(a.split(":")[0]) < 6).length === 3, "no more than 3 in the first minute");
  assert.ok(acted.length > 3, "the budget has room again after a minute");
  assert.match(notices[0]!.reason, /^Paused: global limit of 3 actions per minute reached .* telemetry outage/);
  assert.equal(notices[0]!.target, undefined);
  assert.ok(notices.some((n) => !n.paused && /Resumed/.test(n.reason)));
});

test("freeze holds every action, unfreeze lets them go; release publishes an empty state and then nothing", () => {
  const policy = policyWith({ retries: { enabled: true } });
  const command = (c: Partial<ControlCommand>): ControlCommand => ({ commandId: `c-${c.command}`, command: "freeze", operator: "alice", issuedAt: "2025-05-01T00:00:00Z", ...c });
  const window = (i: number) => windowAggregate({ startMs: T0 + i * WINDOW_MS, versions: { v1: { requests: 1000, errors: 20 } } });
  let global = applyControl(null, initialGlobalState(), command({ command: "freeze", reason: "incident" })).global;
  const frozen = evaluateTarget(initialTargetState(target), [window(0)], policy, global);
  assert.equal(frozen.decision, null);
  assert.match(frozen.reports.find((r) => r.controller === "retries")!.held!, /frozen by alice \(incident\)/);
  global = applyControl(null, global, command({ command: "unfreeze" })).global;
  const after = evaluateTarget(frozen.state, [window(1)], policy, global);
  assert.equal(after.action?.controller, "retries");
  const released = applyControl(after.state, global, command({ command: "release", target }));
  decisionSchema.parse(released.decision);
  assert.deepEqual(released.decision?.desiredState, { ...released.decision!.desiredState, weights: null, retries: null, deniedCallers: [] });
  assert.ok(released.decision.generation > after.decision!.generation);
  const quiet = evaluateTarget(released.state!, [window(2)], policy, global);
  assert.equal(quiet.decision, null);
  const unfrozen = applyControl(quiet.state, global, command({ command: "unfreeze", target }));
  assert.equal(unfrozen.state?.released, false);
});

test("an operator's canary abort goes out at once, inside a cooldown, with a new generation", () => {
  const policy = policyWith({ canary: { enabled: true } });
  const trace = simulate({ seed: 4, windows: 9, policy, rps: steady(100), behaviour: () => healthy });
  assert.equal(trace.final.canary.weight, 5);
  const abort = applyControl(trace.final, initialGlobalState(), {
    commandId: "c-9",
    command: "canary-abort",
    target,
    operator: "bob",
    reason: "customer complaint",
    issuedAt: "2025-05-01T00:01:30Z",
  });
  decisionSchema.parse(abort.decision);
  assert.deepEqual(abort.decision?.desiredState.weights, { v1: 100, v2: 0 });
  assert.deepEqual(abort.decision?.controllers, ["operator"]);
  assert.equal(abort.state?.canary.lastOutcome?.kind, "aborted");
  assert.ok(abort.decision.generation > trace.decisions.at(-1)!.generation);
});

test("generations: window end x 1000 + sequence, strictly increasing, and still increasing after the state is wiped", () => {
  assert.equal(nextGeneration(0, 1_746_057_610_000), 1_746_057_610_000_000);
  assert.equal(nextGeneration(1_746_057_610_000_000, 1_746_057_610_000), 1_746_057_610_000_001);
  assert.ok(Number.isSafeInteger(nextGeneration(0, Date.parse("2200-01-01T00:00:00Z"))));
  const policy = policyWith({ canary: { enabled: true } });
  const trace = simulate({ seed: 5, windows: 30, policy, rps: steady(100), behaviour: () => healthy });
  const last = trace.decisions.at(-1)!;
  // Redis wiped: a fresh state sees the next windows (the baseline is learned over three) and still publishes a newer
  // generation.
  const next = [30, 31, 32].map((i) => windowAggregate({ startMs: T0 + i * WINDOW_MS, versions: { v1: { requests: 100, errors: 0 }, v2: { requests: 10, errors: 0 } } }));
  const wiped = evaluateTarget(initialTargetState(target), next, policy, initialGlobalState());
  assert.ok(wiped.decision !== null, "the wiped state starts over: the baseline is pinned");
  assert.ok(wiped.decision.generation > last.generation);
});

test("replays change nothing; expired leases are removed by a guardrail decision; results of older generations are ignored", () => {
  const policy = policyWith({ ejection: { enabled: true } });
  const pods = (bad: boolean) => Array.from({ length: 10 }, (_, k) => ({ instance: `pod-${k}`, requests: 100, errors: k === 0 && bad ? 100 : 0 }));
  const first = instancesWindow(T0, pods(true));
  const out = evaluateTarget(initialTargetState(target), [first], policy, initialGlobalState());
  assert.equal(out.action?.kind, "ejection");
  const replay = evaluateTarget(out.state, [first], policy, out.global);
  assert.equal(replay.replay, true);
  assert.equal(replay.state, out.state);
  let state: TargetState = out.state;
  let lease = null;
  for (let i = 1; i < 6 && lease === null; i++) {
    const e = evaluateTarget(state, [instancesWindow(T0 + i * WINDOW_MS, pods(false).slice(1))], policy, initialGlobalState());
    state = e.state;
    if (e.decision !== null) lease = e.decision;
  }
  assert.ok(lease !== null);
  assert.deepEqual(lease.controllers, ["guardrail"]);
  assert.deepEqual(lease.desiredState.ejection?.ejectInstances, []);
  desiredStateSchema.parse(lease.desiredState);
  const old: ActuationResult = {
    decisionId: out.decision!.decisionId,
    target,
    generation: out.decision!.generation,
    mesh: "lab",
    status: "failed",
    reason: "timeout",
    resources: [],
    unsupported: [],
    observedAt: "2025-05-01T00:00:30Z",
  };
  assert.equal(recordActuation(state, old, 5000), state);
  const current = { ...old, generation: state.generation, status: "failed" as const };
  assert.deepEqual(recordActuation(state, current, 5000).lastActuation, { generation: state.generation, status: "failed", reason: "timeout" });
});
