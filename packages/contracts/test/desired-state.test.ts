import assert from "node:assert/strict";
import { test } from "node:test";
import {
  desiredStateSchema,
  emptyDesiredState,
  formatIssues,
  nextLeaseExpiry,
  pruneExpiredLeases,
} from "../src/index.ts";
import type { Failover } from "../src/index.ts";
import { desiredState, target } from "./fixtures.ts";

function issues(value: unknown): string {
  const result = desiredStateSchema.safeParse(value);
  assert.equal(result.success, false, "expected a rejection");
  return formatIssues(result.error);
}

test("a full desired state parses unchanged", () => {
  const state = desiredState();
  assert.deepEqual(desiredStateSchema.parse(state), state);
});

test("the empty desired state manages nothing and is valid", () => {
  const empty = emptyDesiredState(target);
  assert.deepEqual(desiredStateSchema.parse(empty), empty);
  assert.equal(empty.weights, null);
  assert.deepEqual(empty.deniedCallers, []);
});

test("weights must be integers summing to 100", () => {
  assert.equal(
    issues(desiredState({ weights: { v1: 60, v2: 30 } })),
    "weights: weights must sum to 100, got 90 (v1=60, v2=30)",
  );
  assert.match(issues(desiredState({ weights: {} })), /weights must sum to 100, got 0/);
  assert.match(issues(desiredState({ weights: { v1: 99.5, v2: 0.5 } })), /weights\.v1: .*int/i);
});

test("retry policies are bounded and consistent", () => {
  const retries = desiredState().retries!;
  const rejects = (patch: object, message: RegExp) =>
    assert.match(issues(desiredState({ retries: { ...retries, ...patch } })), message);
  rejects({ attempts: 11 }, /retries\.attempts: .*<=10/);
  rejects({ retryOn: ["5xx"] }, /retries\.retryOn: retriableStatusCodes need "retriable-status-codes"/);
  rejects({ retryOn: ["5xx", "bogus"] }, /retries\.retryOn\[1\]/);
});

test("failover takes an ordered list or a distribution summing to 100", () => {
  const ordered: Failover = { kind: "failover", fromLocality: "eu-west-1", toLocalities: ["eu-central-1/a"] };
  assert.ok(desiredStateSchema.safeParse(desiredState({ failover: ordered })).success);
  const spread: Failover = { kind: "distribute", fromLocality: "eu-west-1", distribution: { "eu-west-1": 70, b: 20 } };
  const rejects = (failover: Failover, message: RegExp) => assert.match(issues(desiredState({ failover })), message);
  rejects(spread, /failover\.distribution: distribution weights must sum to 100/);
  rejects({ ...ordered, fromLocality: "a//b" }, /failover\.fromLocality: must be region/);
});

test("a caller is denied at most once", () => {
  const caller = { identity: "spiffe://cluster.local/ns/web/sa/bot", reason: "scraping" };
  assert.match(
    issues(desiredState({ deniedCallers: [caller, caller] })),
    /deniedCallers\[1\]\.identity: identity .* is denied twice/,
  );
});

test("expired leases fall away; the next expiry is the earliest", () => {
  const state = desiredState({
    ejection: {
      consecutive5xx: 3,
      intervalMs: 5000,
      baseEjectionTimeMs: 30_000,
      maxEjectionPercent: 20,
      ejectInstances: [
        { instanceId: "a", leaseExpiresAt: "2025-05-01T12:00:00Z", reason: "5xx burst" },
        { instanceId: "b", leaseExpiresAt: "2025-05-01T12:10:00Z", reason: "latency" },
      ],
    },
    deniedCallers: [
      { identity: "x", reason: "abuse", leaseExpiresAt: "2025-05-01T12:05:00Z" },
      { identity: "y", reason: "operator" },
    ],
  });
  assert.equal(nextLeaseExpiry(state), Date.parse("2025-05-01T12:00:00Z"));
  const pruned = pruneExpiredLeases(state, Date.parse("2025-05-01T12:06:00Z"));
  assert.deepEqual(pruned.ejection?.ejectInstances.map((e) => e.instanceId), ["b"]);
  assert.deepEqual(pruned.deniedCallers.map((c) => c.identity), ["y"]);
  assert.equal(nextLeaseExpiry(pruned), Date.parse("2025-05-01T12:10:00Z"));
  assert.equal(nextLeaseExpiry(emptyDesiredState(target)), null);
});
