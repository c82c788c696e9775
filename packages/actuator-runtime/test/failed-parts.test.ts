import assert from "node:assert/strict";
import { test } from "node:test";
import { describeFailures, failedPartResults } from "../src/index.ts";

test("failed parts become results named by their object, else by the parts; and one phrase for the reason", () => {
  const failed = [
    { capabilities: ["weights" as const], reason: "no port", ref: { kind: "HTTPRoute", name: "checkout-users", namespace: "shop" } },
    { capabilities: ["retries" as const, "requestTimeout" as const], reason: "a ServiceProfile silences them" },
    { capabilities: [], reason: "the route as meshloop found it is invalid", ref: { kind: "HTTPRoute", name: "checkout-old", namespace: "" } },
  ];
  assert.deepEqual(failedPartResults(failed), [
    { kind: "HTTPRoute", name: "checkout-users", namespace: "shop", status: "failed", message: "weights not written: no port" },
    { kind: "part", name: "retries+requestTimeout", status: "failed", message: "retries+requestTimeout not written: a ServiceProfile silences them" },
    { kind: "HTTPRoute", name: "checkout-old", status: "failed", message: "the route as meshloop found it is invalid" },
  ]);
  assert.equal(describeFailures(failed), "weights failed: no port; retries, requestTimeout failed: a ServiceProfile silences them; the route as meshloop found it is invalid");
  assert.equal(describeFailures([]), null);
});
