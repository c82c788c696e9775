import assert from "node:assert/strict";
import { test } from "node:test";
import { controlCommandSchema, formatIssues, pauseNoticeSchema } from "../src/index.ts";
import { command, target } from "./fixtures.ts";

function issues(value: unknown): string {
  const result = controlCommandSchema.safeParse(value);
  assert.equal(result.success, false, "expected a rejection");
  return formatIssues(result.error);
}

test("approve and reject need the decision they are about", () => {
  assert.ok(controlCommandSchema.safeParse(command()).success);
  assert.equal(issues(command({ decisionId: undefined })), "decisionId: approve needs a decisionId");
  assert.equal(issues(command({ command: "reject", decisionId: undefined })), "decisionId: reject needs a decisionId");
});

test("freeze may be global; canary commands and release need a target", () => {
  const globalFreeze = command({ command: "freeze", target: undefined, decisionId: undefined });
  assert.ok(controlCommandSchema.safeParse(globalFreeze).success);
  assert.equal(issues(command({ command: "canary-start", target: undefined })), "target: canary-start needs a target");
  assert.equal(issues(command({ command: "release", target: undefined })), "target: release needs a target");
  assert.match(issues(command({ command: "freeze", version: "v2" })), /version is only for canary-start, not freeze/);
  assert.match(issues(command({ command: "rollback" as never })), /^command: /);
});

test("pause notices name who paused", () => {
  const notice = {
    pauseId: "p-1",
    target,
    paused: true,
    by: "guardrail",
    reason: "error budget burning at 14x",
    at: "2025-05-01T12:00:00Z",
  };
  assert.deepEqual(pauseNoticeSchema.parse(notice), notice);
  assert.equal(pauseNoticeSchema.safeParse({ ...notice, by: "cron" }).success, false);
});
