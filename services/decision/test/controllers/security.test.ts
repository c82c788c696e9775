import assert from "node:assert/strict";
import { test } from "node:test";
import { decisionSchema } from "@meshloop/contracts";
import type { ControlCommand, Decision } from "@meshloop/contracts";
import { applyControl, evaluateTarget, initialGlobalState, initialSecurityState, initialTargetState, policyWith, securityController } from "../../src/index.ts";
import type { SecuritySettings, SecurityState, TargetState } from "../../src/index.ts";
import { rng, target, WINDOW_MS } from "../support/aggregates.ts";
import { fleetWindow, windowEnd } from "../support/fleet.ts";
import type { Caller } from "../support/fleet.ts";

const HOUR = 3_600_000;
const perWindow = (rps: number) => (rps * WINDOW_MS) / 1000;

function settings(overrides: Partial<SecuritySettings> = {}): SecuritySettings {
  return { ...policyWith({ security: { enabled: true, learningPeriod: "1m" } }).security, target, denied: [], suppressed: new Set(), ...overrides };
}

function window(i: number, callers: readonly Caller[]) {
  return fleetWindow(i, [{ instance: "pod-0", requests: callers.reduce((a, c) => a + c.requests, 0) }], { callers });
}

/** Usual traffic: web at ~20 req/s and batch at ~5 req/s, with Poisson-like noise. */
function usual(random: () => number): Caller[] {
  const jitter = (rps: number) => Math.round(perWindow(rps) * (0.8 + 0.4 * random()));
  return [
    { service: "web", requests: jitter(20), forbidden: Math.round(random() * 3) },
    { service: "batch", requests: jitter(5) },
  ];
}

function run(windows: readonly (readonly Caller[])[], policy: SecuritySettings, start: SecurityState = initialSecurityState()) {
  let state = start;
  const proposals: { i: number; reason: string; identities: string[]; approval: boolean }[] = [];
  windows.forEach((callers, i) => {
    const out = securityController(state, [window(i, callers)], policy, windowEnd(i));
    state = out.state;
    if (out.proposal !== null) {
      proposals.push({ i, reason: out.reason, identities: (out.proposal.parts.deniedCallers ?? []).map((d) => d.identity), approval: out.proposal.requiresApproval });
    }
  });
  return { proposals, state };
}

test("a never-seen caller of a sensitive service is proposed for denial after the learning period, not during it", () => {
  const random = rng(7);
  const policy = settings({ sensitive: true });
  const early = [...Array.from({ length: 3 }, () => usual(random)), [...usual(random), { service: "crawler", requests: 30 }]];
  assert.equal(run(early, policy).proposals.length, 0, "learned during the first minute");
  const later = [...Array.from({ length: 8 }, () => usual(random)), [...usual(random), { service: "crawler", namespace: "tools", requests: 30 }]];
  const { proposals } = run(later, policy);
  assert.equal(proposals.length, 1);
  assert.deepEqual(proposals[0]!.identities, ["spiffe://cluster.local/ns/tools/sa/crawler"]);
  assert.equal(proposals[0]!.approval, true, "propose mode by default");
  assert.match(proposals[0]!.reason, /^Caller tools\/crawler called the sensitive service for the first time/);
});

test("a caller seen before meshloop restarts is not new: first-seen times are part of the stored state", () => {
  const random = rng(3);
  const policy = settings({ sensitive: true });
  const first = run([...Array.from({ length: 8 }, () => usual(random)), [...usual(random), { service: "reports", requests: 10 }]], { ...policy, learningPeriod: 10 * HOUR });
  const stored = JSON.parse(JSON.stringify(first.state)) as SecurityState;
  const windows = Array.from({ length: 20 }, (_, k) => (k < 9 ? [] : [...usual(random), { service: "reports", requests: 10 }]));
  // Continue from the stored state with a short learning period: reports was learned, so nothing is proposed.
  const { proposals } = run(windows, policy, stored);
  assert.equal(proposals.length, 0);
});

test("a spike of 401/403 from one caller is proposed; a caller that always fails auth is not an incident", () => {
  const random = rng(11);
  const policy = settings();
  const base = Array.from({ length: 10 }, () => [...usual(random), { service: "legacy", requests: 100, forbidden: 90 }]);
  const spike = [...usual(random), { service: "legacy", requests: 100, forbidden: 90 }];
  spike[0] = { service: "web", requests: 200, unauthorized: 150 };
  const { proposals } = run([...base, spike], policy);
  assert.equal(proposals.length, 1, JSON.stringify(proposals));
  assert.match(proposals[0]!.reason, /shop\/web got 150 401\/403 answers \(75% of its requests/);
});

test("a caller's rate anomaly (robust z over its EWMA) is proposed after the baseline; noise alone never is", () => {
  let falseAlarms = 0;
  for (let seed = 1; seed <= 50; seed++) {
    const random = rng(seed);
    falseAlarms += run(Array.from({ length: 60 }, () => usual(random)), settings()).proposals.length;
  }
  assert.equal(falseAlarms, 0, "50 runs of an hour of noisy but usual traffic");
  const random = rng(5);
  const flood = [...Array.from({ length: 20 }, () => usual(random)), [{ service: "web", requests: perWindow(20) }, { service: "batch", requests: perWindow(60) }]];
  const { proposals } = run(flood, settings());
  assert.equal(proposals.length, 1);
  assert.match(proposals[0]!.reason, /shop\/batch sent 60 req\/s against a usual 5/);
  // Too early: the same flood before baselineWindows windows is not judged.
  assert.equal(run([...flood.slice(0, 5), flood[20]!], settings()).proposals.length, 0);
});

test("enforce mode applies at once; a caller already denied or suppressed is not proposed again", () => {
  const random = rng(5);
  const windows = [...Array.from({ length: 20 }, () => usual(random)), [{ service: "web", requests: perWindow(20) }, { service: "batch", requests: perWindow(80) }]];
  const enforce = run(windows, settings({ mode: "enforce" }));
  assert.equal(enforce.proposals[0]!.approval, false);
  const suppressed = run(windows, settings({ suppressed: new Set(["shop/batch"]) }));
  assert.equal(suppressed.proposals.length, 0);
  const denied = run(windows, settings({ denied: [{ identity: "spiffe://cluster.local/ns/shop/sa/batch", service: "batch", namespace: "shop", reason: "x" }] }));
  assert.equal(denied.proposals.length, 0);
});

// The loop around it: a proposal waits aside, another controller's decision does not carry it, approval publishes it.
test("propose -> approve: the denial is published with requiresApproval, kept out of later decisions, and applied on approval", () => {
  const random = rng(5);
  const policy = policyWith({ security: { enabled: true }, guardrails: { cooldown: "1s" } });
  let state: TargetState = initialTargetState(target);
  const decisions: Decision[] = [];
  const windows = [...Array.from({ length: 20 }, () => usual(random)), [{ service: "web", requests: perWindow(20) }, { service: "batch", requests: perWindow(80) }]];
  windows.forEach((callers, i) => {
    const out = evaluateTarget(state, [window(i, callers)], policy, initialGlobalState());
    state = out.state;
    if (out.decision !== null) decisions.push(out.decision);
  });
  assert.equal(decisions.length, 1);
  const proposed = decisionSchema.parse(decisions[0]);
  assert.equal(proposed.requiresApproval, true);
  assert.deepEqual(proposed.controllers, ["security"]);
  assert.equal(proposed.desiredState.deniedCallers[0]?.identity, "spiffe://cluster.local/ns/shop/sa/batch");
  assert.deepEqual(state.desired.deniedCallers, [], "not in force until approved");
  assert.equal(state.awaitingApproval?.decisionId, proposed.decisionId);

  const command = (c: Partial<ControlCommand>): ControlCommand => ({ commandId: "c-1", command: "approve", operator: "alice", issuedAt: new Date(windowEnd(20) + 60_000).toISOString(), target, ...c });
  const wrong = applyControl(state, initialGlobalState(), command({ decisionId: "shop/other@1" }));
  assert.equal(wrong.decision, null);
  assert.match(wrong.reason, /awaits approval \(.*does\)/);

  const approved = applyControl(state, initialGlobalState(), command({ decisionId: proposed.decisionId }));
  const published = decisionSchema.parse(approved.decision);
  assert.equal(published.requiresApproval, false);
  assert.ok(published.generation > proposed.generation, "a new generation: never stale for an actuator");
  const denial = published.desiredState.deniedCallers[0]!;
  assert.equal(denial.identity, "spiffe://cluster.local/ns/shop/sa/batch");
  // The lease runs from the approval: a minute later than proposed.
  assert.equal(Date.parse(denial.leaseExpiresAt!) - Date.parse(proposed.desiredState.deniedCallers[0].leaseExpiresAt!), 60_000);
  assert.equal(approved.state?.awaitingApproval, null);
  assert.equal(approved.state?.desired.deniedCallers.length, 1);
});

test("propose -> reject: nothing is published and the caller is not proposed again for the lease time", () => {
  const random = rng(5);
  const policy = policyWith({ security: { enabled: true }, guardrails: { cooldown: "1s" } });
  let state: TargetState = initialTargetState(target);
  const flood = [{ service: "web", requests: perWindow(20) }, { service: "batch", requests: perWindow(80) }];
  let proposal: Decision | null = null;
  [...Array.from({ length: 20 }, () => usual(random)), flood].forEach((callers, i) => {
    const out = evaluateTarget(state, [window(i, callers)], policy, initialGlobalState());
    state = out.state;
    proposal = out.decision ?? proposal;
  });
  assert.ok(proposal !== null);
  const rejected = applyControl(state, initialGlobalState(), { commandId: "c-2", command: "reject", operator: "bob", issuedAt: new Date(windowEnd(20)).toISOString(), target, decisionId: (proposal as Decision).decisionId });
  assert.equal(rejected.decision, null);
  assert.match(rejected.reason, /rejected by bob/);
  state = rejected.state!;
  for (let i = 21; i < 30; i++) {
    const out = evaluateTarget(state, [window(i, flood)], policy, initialGlobalState());
    state = out.state;
    assert.equal(out.decision, null, `window ${i}`);
  }
});
