import assert from "node:assert/strict";
import { test } from "node:test";
import { retryPolicySchema } from "@meshloop/contracts";
import { initialRetriesState, policyWith, retriesController } from "../src/index.ts";
import type { RetriesState } from "../src/index.ts";
import { lognormalLatencies, rng, T0, WINDOW_MS, windowAggregate } from "./support/aggregates.ts";

const policy = policyWith({ retries: { enabled: true } }).retries;

function step(state: RetriesState, i: number, rps: number, errorRate: number, medianMs: number, seed = i) {
  const requests = rps * 10;
  const window = windowAggregate({
    startMs: T0 + i * WINDOW_MS,
    versions: { v1: { requests, errors: Math.round(requests * errorRate), latencies: lognormalLatencies(rng(seed), requests, medianMs, 0.3) } },
  });
  return retriesController(state, [window], policy, T0 + (i + 1) * WINDOW_MS);
}

test("transient failures within the budget turn retries on, transient conditions only, with Linkerd's budget", () => {
  let state = initialRetriesState();
  for (let i = 0; i < 5; i++) state = step(state, i, 100, 0, 40).state;
  const out = step(state, 5, 100, 0.02, 40);
  assert.ok(out.proposal !== null);
  const retries = retryPolicySchema.parse(out.proposal.parts.retries);
  assert.equal(retries.attempts, 2);
  assert.deepEqual(retries.budget, { percent: 20, minRetriesPerSecond: 10 });
  assert.ok(!retries.retryOn.includes("5xx"), "not every 5xx, only transient conditions");
  assert.deepEqual(retries.retriableStatusCodes, [503]);
  assert.match(out.reason, /fit the retry budget/);
  // Already on: no new proposal.
  assert.equal(step(out.state, 6, 100, 0.02, 40).proposal, null);
});

test("a saturated callee (latency rising with load) gets its retries turned off, and they stay off while it recovers", () => {
  let state = initialRetriesState();
  for (let i = 0; i < 6; i++) state = step(state, i, 100, 0.02, 40).state;
  assert.equal(state.on, true);
  const saturated = step(state, 6, 160, 0.05, 90);
  assert.equal(saturated.proposal?.parts.retries?.attempts, 0);
  assert.match(saturated.reason, /saturated/);
  state = saturated.state;
  // Hysteresis: calm windows before they come back on.
  const calm1 = step(state, 7, 100, 0.02, 45);
  assert.equal(calm1.proposal, null);
  let back = calm1.state;
  let on = null;
  for (let i = 8; i < 14 && on === null; i++) {
    const out = step(back, i, 100, 0.02, 40);
    back = out.state;
    if (out.proposal !== null) on = i;
  }
  assert.ok(on !== null && on >= 9, `back on at window ${on}`);
});

test("failures beyond what the budget can retry turn retries off: retrying cannot help then", () => {
  let state = initialRetriesState();
  for (let i = 0; i < 4; i++) state = step(state, i, 100, 0.02, 40).state;
  const out = step(state, 4, 100, 0.4, 40);
  assert.equal(out.proposal?.parts.retries?.attempts, 0);
  assert.match(out.reason, /beyond the budget/);
});
