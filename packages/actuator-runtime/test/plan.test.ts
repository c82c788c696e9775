import assert from "node:assert/strict";
import { test } from "node:test";
import { actuationResultSchema } from "@meshloop/contracts";
import { actuationResult, planFor, settles } from "../src/index.ts";
import { decision } from "./actuator-scenario.ts";

test("the plan: stale at or below the last applied generation, approval first, dry run by decision or by mode", () => {
  assert.equal(planFor(decision(5), 5, "apply").action, "skip");
  assert.equal(planFor(decision(6), 5, "apply").action, "apply");
  const held = planFor(decision(6, { requiresApproval: true }), 5, "apply");
  assert.ok(held.action === "skip" && held.outcome.status === "awaiting-approval");
  assert.deepEqual(planFor(decision(6, { requiresApproval: true, approvedBy: "alice" }), 5, "apply"), { action: "apply", mode: "apply" });
  assert.deepEqual(planFor(decision(6, { dryRun: true }), 5, "apply"), { action: "apply", mode: "dry-run" });
  assert.deepEqual(planFor(decision(6), 5, "dry-run"), { action: "apply", mode: "dry-run" });
});

test("results follow the contract; only carried-out decisions settle the generation", () => {
  const applied = actuationResult(decision(7), { status: "applied", reason: "ok", resources: [], unsupported: [] }, new Date(1_000));
  assert.doesNotThrow(() => actuationResultSchema.parse(applied));
  assert.equal(applied.appliedAt, new Date(1_000).toISOString());
  const dry = actuationResult(decision(7), { status: "dry-run", reason: "checked", resources: [], unsupported: [] }, new Date(1_000));
  assert.equal(dry.appliedAt, undefined);
  assert.deepEqual(
    (["applied", "unsupported", "refused", "failed", "dry-run", "stale", "awaiting-approval"] as const).map((status) => settles({ status, reason: "r", resources: [], unsupported: [] })),
    [true, true, true, false, false, false, false],
  );
});
