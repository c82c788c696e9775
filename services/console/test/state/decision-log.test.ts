import assert from "node:assert/strict";
import { test } from "node:test";
import type { ControlCommand } from "@meshloop/contracts";
import { DECISION_HISTORY, DecisionLog } from "../../src/state/decision-log.ts";
import { actuation, decision, payments, T0 } from "../support/fixtures.ts";

const ledger = { mesh: "lab" as const, namespace: "lab", service: "ledger" };

function command(c: Partial<ControlCommand> & Pick<ControlCommand, "command">): ControlCommand {
  return { commandId: `${c.command}-${Math.random()}`, operator: "alice", issuedAt: new Date(T0).toISOString(), ...c };
}

test("an actuation read before its decision is attached when the decision comes; a redelivered decision is ignored", () => {
  const log = new DecisionLog();
  const d = decision({ generation: 5, reason: "step" });
  log.addActuation(actuation(d, "failed", new Date(T0 + 1000)));
  const entry = log.addDecision(d);
  assert.deepEqual(entry?.actuations.map((a) => a.status), ["failed"]);
  assert.equal(log.addDecision(d), null);
  assert.equal(log.decisions().length, 1);
});

test("the latest result per mesh wins; an older one read late does not overwrite it", () => {
  const log = new DecisionLog();
  const d = decision({ generation: 5, reason: "step" });
  log.addDecision(d);
  log.addActuation(actuation(d, "applied", new Date(T0 + 2000)));
  log.addActuation(actuation(d, "failed", new Date(T0 + 1000)));
  assert.deepEqual(log.entry(d.decisionId)?.actuations.map((a) => [a.status, a.appliedAt !== null]), [["applied", true]]);
  log.addActuation(actuation(d, "stale", new Date(T0 + 3000)));
  assert.deepEqual(log.entry(d.decisionId)?.actuations.map((a) => a.status), ["stale"]);
});

test("the history keeps the last 500 decisions", () => {
  const log = new DecisionLog();
  for (let g = 1; g <= DECISION_HISTORY + 20; g++) log.addDecision(decision({ generation: g, reason: `gen ${g}` }));
  assert.equal(log.decisions().length, DECISION_HISTORY);
  assert.equal(log.decisions()[0]!.decision.generation, 21);
  assert.equal(log.entry(decision({ generation: 1, reason: "x" }).decisionId), undefined);
});

test("a proposal is pending until a later decision of its target or a reject; an approve marks it", () => {
  const log = new DecisionLog();
  const proposal = decision({ generation: 4, controllers: ["security"], reason: "deny crawler?", requiresApproval: true });
  log.addDecision(decision({ generation: 3, reason: "step", weights: { v1: 80, v2: 20 } }));
  log.addDecision(proposal);
  log.addDecision(decision({ target: ledger, generation: 9, reason: "other target", weights: { v1: 100 } }));
  assert.deepEqual(log.pending().map((p) => [p.decisionId, p.answer]), [[proposal.decisionId, null]]);

  log.addControl(command({ command: "approve", decisionId: proposal.decisionId, target: payments, operator: "bob" }));
  assert.equal(log.pending()[0]!.answer?.operator, "bob");

  log.addDecision(decision({ generation: 5, controllers: ["operator"], reason: "Approved by bob" }));
  assert.deepEqual(log.pending(), []);

  const other = decision({ target: ledger, generation: 10, controllers: ["security"], reason: "deny scanner?", requiresApproval: true });
  log.addDecision(other);
  assert.equal(log.pending().length, 1);
  const reject = command({ command: "reject", decisionId: other.decisionId, target: ledger });
  assert.equal(log.addControl(reject), true);
  assert.equal(log.addControl(reject), false, "a redelivered command is held once");
  assert.deepEqual(log.pending(), [], "a reject brings no new decision, so the reject itself ends the proposal");
});

test("canaries: targets whose decisions split traffic, in progress while the latest weights split it", () => {
  const log = new DecisionLog();
  log.addDecision(decision({ generation: 1, reason: "pin", weights: { v1: 100, v2: 0 } }));
  log.addDecision(decision({ generation: 2, reason: "step", weights: { v1: 80, v2: 20 } }));
  log.addDecision(decision({ target: ledger, generation: 1, reason: "retries", weights: { v1: 100 }, controllers: ["retries"] }));
  let [canary] = log.canaries();
  assert.equal(log.canaries().length, 1, "one version only is no canary");
  assert.equal(canary!.inProgress, true);
  assert.deepEqual(canary!.points.map((p) => p.weights), [{ v1: 100, v2: 0 }, { v1: 80, v2: 20 }]);

  log.addDecision(decision({ generation: 4, reason: "proposal", weights: { v1: 80, v2: 20 }, requiresApproval: true, controllers: ["security"] }));
  log.addDecision(decision({ generation: 3, reason: "rolling back to v1", weights: { v1: 100, v2: 0 } }));
  [canary] = log.canaries();
  assert.equal(canary!.inProgress, false);
  assert.deepEqual(canary!.points.map((p) => p.generation), [1, 2, 3], "by generation, without the proposal, whatever the arrival order");
});

test("the global freeze follows global pause notices and the store, not a target's notice", () => {
  const log = new DecisionLog();
  assert.equal(log.freeze.frozen, null);
  log.addPause({ pauseId: "t:1", target: payments, paused: true, by: "operator", reason: "Frozen by bob: x.", at: new Date(T0).toISOString() });
  assert.equal(log.freeze.frozen, null);
  log.addPause({ pauseId: "global:1", paused: true, by: "operator", commandId: "c1", reason: "Frozen by alice: incident.", at: new Date(T0).toISOString() });
  assert.deepEqual([log.freeze.frozen, log.freeze.source, log.freeze.reason], [true, "notice", "Frozen by alice: incident."]);
  log.freezeFromStore(null);
  assert.deepEqual([log.freeze.frozen, log.freeze.source], [false, "store"]);
  log.freezeFromStore({ by: "carol", reason: "deploy" });
  assert.deepEqual([log.freeze.frozen, log.freeze.by, log.freeze.reason], [true, "carol", "deploy"]);
  assert.equal(log.pauses().length, 2);
});
