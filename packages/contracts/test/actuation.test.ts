import assert from "node:assert/strict";
import { test } from "node:test";
import { actuationResultSchema, formatIssues } from "../src/index.ts";
import { actuation } from "./fixtures.ts";

function issues(value: unknown): string {
  const result = actuationResultSchema.safeParse(value);
  assert.equal(result.success, false, "expected a rejection");
  return formatIssues(result.error);
}

test("an actuation result parses unchanged, unsupported parts included", () => {
  const result = actuation({ unsupported: [{ capability: "ejectChosenInstance", reason: "no API" }] });
  assert.deepEqual(actuationResultSchema.parse(result), result);
});

test("results are from the target's own mesh, and applied ones say when", () => {
  assert.equal(issues(actuation({ mesh: "linkerd" })), "mesh: mesh linkerd is not the target's mesh istio");
  assert.equal(issues(actuation({ appliedAt: undefined })), "appliedAt: an applied result needs appliedAt");
  const refused = actuation({ status: "refused", appliedAt: undefined, reason: "owned by argocd" });
  assert.ok(actuationResultSchema.safeParse(refused).success);
  const unknownPart = actuation({ unsupported: [{ capability: "teleport" as never, reason: "x" }] });
  assert.match(issues(unknownPart), /^unsupported\[0\]\.capability: /);
});
