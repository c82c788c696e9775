import assert from "node:assert/strict";
import { test } from "node:test";
import { decisionSchema, formatIssues } from "../src/index.ts";
import { decision, desiredState } from "./fixtures.ts";

function issues(value: unknown): string {
  const result = decisionSchema.safeParse(value);
  assert.equal(result.success, false, "expected a rejection");
  return formatIssues(result.error);
}

test("a decision parses unchanged", () => {
  assert.deepEqual(decisionSchema.parse(decision()), decision());
});

test("a decision is about the target of its desired state", () => {
  const other = desiredState({ target: { mesh: "istio", namespace: "shop", service: "cart" } });
  assert.equal(
    issues(decision({ desiredState: other })),
    "desiredState.target: desiredState.target must be the decision's target",
  );
});

test("generations are positive integers, controllers named, times RFC 3339", () => {
  assert.match(issues(decision({ generation: 0 })), /^generation: /);
  assert.match(issues(decision({ controllers: [] })), /^controllers: /);
  assert.match(issues(decision({ controllers: ["magic" as never] })), /^controllers\[0\]: /);
  assert.match(issues(decision({ createdAt: "yesterday" })), /^createdAt: /);
  const evidence = [{ metric: "p99", value: 1, window: { startMs: 0, endMs: 1 }, pValue: 2 }];
  assert.match(issues(decision({ evidence })), /^evidence\[0\]\.pValue: /);
});
