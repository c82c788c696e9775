import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { emptyDesiredState } from "@meshloop/contracts";
import type { Decision } from "@meshloop/contracts";
import { countReversals, judge, loadScenario, settled } from "../../src/index.ts";
import type { RunRecord } from "../../src/index.ts";

const T0 = 1_800_000_000_000;
const target = { mesh: "lab" as const, namespace: "lab", service: "payments" };

const scenario = loadScenario(
  `
name: t
description: test
window: 1s
duration: 30s
policies: [{ name: p }]
load: { profile: { kind: constant, rps: 1 } }
faults:
  - { name: bad, at: 5s, scope: { service: payments, version: v2 }, effect: { kind: errors, rate: 0.5 } }
expect:
  - { kind: decision, service: payments, controller: canary, reason: "rolling back", after: bad, withinWindows: 4, applied: true }
  - { kind: no-decision, service: payments, reason: promoting }
  - { kind: final-weights, service: payments, weights: { v1: 100, v2: 0 } }
  - { kind: weight-reversals, service: payments, version: v2, max: 1 }
`,
  "t.yaml",
);

function decision(generation: number, windowEndMs: number, reason: string, weights: Record<string, number>): Decision {
  return {
    decisionId: `lab/lab/payments@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), weights },
    controllers: ["canary"],
    reason,
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs,
    createdAt: new Date(windowEndMs).toISOString(),
  };
}

function record(decisions: Decision[], appliedIds: string[] = decisions.map((d) => d.decisionId)): RunRecord {
  return {
    startedAtMs: T0,
    faults: [{ name: "bad", onsetMs: T0 + 5000 }],
    decisions: decisions.map((d) => ({ decision: d, seenAtMs: d.windowEndMs + 300 })),
    actuations: appliedIds.map((id) => ({ decisionId: id, target, generation: Number(id.split("@")[1]), mesh: "lab" as const, status: "applied" as const, reason: "ok", resources: [], unsupported: [], observedAt: new Date(T0 + 9000).toISOString() })),
  };
}

test("a rollback within the windows passes with its figures; too late fails; not yet is pending until the end", () => {
  const pin = decision(1, T0 + 2000, "pinning v1", { v1: 100, v2: 0 });
  const step = decision(2, T0 + 4000, "starts at 20%", { v1: 80, v2: 20 });
  const rollback = decision(3, T0 + 8000, "v2 errors; rolling back to v1", { v1: 100, v2: 0 });
  const v = judge(scenario, record([pin, step, rollback]), false);
  assert.deepEqual(v.map((x) => x.state), ["passed", "pending", "passed", "pending"]);
  assert.deepEqual(v[0]!.figures, { toDecisionMs: 3300, toActuationMs: 4000, windows: 3 });
  assert.equal(settled(v), false, "no-decision and reversals wait for the end");
  assert.deepEqual(judge(scenario, record([pin, step, rollback]), true).map((x) => x.state), ["passed", "passed", "passed", "passed"]);

  const late = decision(3, T0 + 10_000, "rolling back", { v1: 100, v2: 0 });
  assert.equal(judge(scenario, record([pin, step, late]), false)[0]!.state, "failed");
  assert.match(judge(scenario, record([pin, step, late]), false)[0]!.detail, /5 windows after bad, over 4/);
  // In time but never applied: pending, then failed.
  assert.equal(judge(scenario, record([pin, step, rollback], []), false)[0]!.state, "pending");
  assert.equal(judge(scenario, record([pin, step, rollback], []), true)[0]!.state, "failed");
});

test("afterDecision anchors on the first decision whose reason matches, and waits while there is none", () => {
  const anchored = { ...scenario, expect: [{ kind: "decision" as const, service: "payments", reason: "rolling back", after: "start", afterDecision: "starts at 20%", anchorAt: "decided" as const, withinWindows: 3, applied: false }] };
  const step = decision(2, T0 + 4000, "v2's canary starts at 20%", { v1: 80, v2: 20 });
  const rollback = decision(3, T0 + 7000, "rolling back to v1", { v1: 100, v2: 0 });
  assert.equal(judge(anchored, record([rollback]), false)[0]!.state, "pending", "no anchor yet");
  assert.equal(judge(anchored, record([rollback]), true)[0]!.detail, 'the decision matching "starts at 20%" never happened');
  const v = judge(anchored, record([step, rollback]), false)[0]!;
  assert.equal(v.state, "passed");
  assert.equal(v.figures?.windows, 3);
});

test("anchorAt applied counts from when the anchoring decision's actuation came back applied", () => {
  const anchored = { ...scenario, expect: [{ kind: "decision" as const, service: "payments", reason: "rolling back", after: "start", afterDecision: "starts at 20%", anchorAt: "applied" as const, withinWindows: 3, applied: false }] };
  const step = decision(2, T0 + 4000, "v2's canary starts at 20%", { v1: 80, v2: 20 });
  const rollback = decision(3, T0 + 11_000, "rolling back to v1", { v1: 100, v2: 0 });
  // record() stamps every actuation at T0 + 9 s: the step's traffic began then, 2 windows before the rollback.
  assert.equal(judge(anchored, record([step, rollback], []), false)[0]!.state, "pending", "the step is not applied yet");
  assert.match(judge(anchored, record([step, rollback], []), true)[0]!.detail, /the actuation of the decision matching "starts at 20%" never happened/);
  const v = judge(anchored, record([step, rollback]), false)[0]!;
  assert.equal(v.state, "passed");
  assert.equal(v.figures?.windows, 2);
  // Counted from the decision instead, the same rollback is 7 windows late.
  const decided = { ...anchored, expect: [{ ...anchored.expect[0]!, anchorAt: "decided" as const }] };
  assert.equal(judge(decided, record([step, rollback]), false)[0]!.state, "failed");
});

test("a forbidden decision fails at once; weights that flap fail the reversals bound", () => {
  const promote = decision(4, T0 + 6000, "promoting v2", { v1: 0, v2: 100 });
  const v = judge(scenario, record([promote]), false);
  assert.equal(v[1]!.state, "failed");
  assert.ok(settled(v), "a failure ends the run");
  const flaps = [20, 50, 20, 50].map((w, i) => decision(10 + i, T0 + 1000 * i, "shift", { v1: 100 - w, v2: w }));
  assert.equal(judge(scenario, record(flaps), false)[3]!.state, "failed");
  assert.equal(countReversals([0, 20, 20, 50, 0, 0, 100]), 2);
});

test("scenario files: errors name the file and path; every shipped scenario loads", () => {
  assert.throws(() => loadScenario("name: x\ndescription: d\nduration: 10s\npolicies: [{name: p}]\nload: {profile: {kind: constant, rps: 1}}\nexpect: [{kind: decision, service: a, after: nope}]\n", "x.yaml"), /x\.yaml: expect\.0\.after: after names no fault/);
  assert.throws(() => loadScenario("name: x\nwindow: 100ms\n", "x.yaml"), /x\.yaml: .*window/);
  const dir = new URL("../../scenarios/", import.meta.url).pathname;
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 8, files.join(", "));
  for (const f of files) assert.equal(loadScenario(readFileSync(join(dir, f), "utf8"), f).name, f.replace(/\.yaml$/, ""));
});
