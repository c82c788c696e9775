// fast-check generators of valid desired states (and key-order shuffles), for properties that must hold whatever a decision asks.
import fc from "fast-check";
import { desiredStateSchema, RETRY_CONDITIONS } from "@meshloop/contracts";
import type { DesiredState, Mesh } from "@meshloop/contracts";

const VERSIONS = ["v1", "v2", "v3", "1.2.0", "canary"];
const LATER = "2025-05-01T13:00:00Z";

const weights = fc
  .subarray(VERSIONS, { minLength: 1 })
  .chain((versions) =>
    fc.array(fc.integer({ min: 0, max: 100 }), { minLength: versions.length - 1, maxLength: versions.length - 1 }).map((cuts) => {
      const points = [0, ...[...cuts].sort((a, b) => a - b), 100];
      return Object.fromEntries(versions.map((v, i) => [v, points[i + 1]! - points[i]!]));
    }),
  );

const retries = fc
  .record({
    attempts: fc.integer({ min: 0, max: 10 }),
    perTryTimeoutMs: fc.option(fc.integer({ min: 1, max: 60_000 }), { nil: null }),
    retryOn: fc.subarray([...RETRY_CONDITIONS]),
    budget: fc.option(fc.record({ percent: fc.integer({ min: 0, max: 100 }), minRetriesPerSecond: fc.integer({ min: 0, max: 50 }) }), { nil: null }),
  })
  .map((r) => ({ ...r, retriableStatusCodes: r.retryOn.includes("retriable-status-codes") ? [503] : [] }));

const failover = fc.oneof(
  fc.record({ kind: fc.constant("failover" as const), fromLocality: fc.constantFrom("us-east1", "us-east1/b"), toLocalities: fc.subarray(["us-west1", "eu-west1/a", "us-east1/c"], { minLength: 1 }) }),
  fc.constant({ kind: "distribute" as const, fromLocality: "us-east1/b", distribution: { "us-east1/b": 70, "us-east1/c": 30 } }),
);

export function desiredStates(mesh: Mesh): fc.Arbitrary<DesiredState> {
  return fc
    .record({
      weights: fc.option(weights, { nil: null }),
      retries: fc.option(retries, { nil: null }),
      requestTimeoutMs: fc.option(fc.integer({ min: 1, max: 120_000 }), { nil: null }),
      connectionLimits: fc.option(
        fc.record({ maxConnections: fc.integer({ min: 1, max: 10_000 }), maxPendingRequests: fc.integer({ min: 1, max: 1000 }), maxRequests: fc.integer({ min: 1, max: 10_000 }), maxRetries: fc.integer({ min: 1, max: 100 }) }),
        { nil: null },
      ),
      ejection: fc.option(
        fc.record({
          consecutive5xx: fc.integer({ min: 1, max: 50 }),
          intervalMs: fc.integer({ min: 1, max: 60_000 }),
          baseEjectionTimeMs: fc.integer({ min: 1, max: 600_000 }),
          maxEjectionPercent: fc.integer({ min: 0, max: 100 }),
          ejectInstances: fc.subarray([{ instanceId: "checkout-a", leaseExpiresAt: LATER, reason: "slow" }]),
        }),
        { nil: null },
      ),
      replicas: fc.option(fc.record({ count: fc.integer({ min: 1, max: 50 }), mode: fc.constantFrom("apply" as const, "recommend" as const) }), { nil: null }),
      failover: fc.option(failover, { nil: null }),
      rateLimit: fc.option(fc.record({ requestsPerSecond: fc.double({ min: 0.1, max: 10_000, noNaN: true }) }), { nil: null }),
      deniedCallers: fc.subarray([
        { identity: "spiffe://cluster.local/ns/shop/sa/crawler", service: "crawler", namespace: "shop", reason: "scraping", leaseExpiresAt: LATER },
        { identity: "spiffe://cluster.local/ns/jobs/sa/batch", reason: "retry storm" },
      ]),
    })
    .map((parts) => desiredStateSchema.parse({ target: { mesh, namespace: "shop", service: "checkout" }, ...parts }));
}

/** The same JSON value with every object's keys in another order. */
export function shuffledKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffledKeys(v, seed + i));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const order = entries.map((e, i) => ({ e, k: Math.sin(seed * 7919 + i * 104_729) })).sort((a, b) => a.k - b.k);
  return Object.fromEntries(order.map(({ e: [k, v] }, i) => [k, shuffledKeys(v, seed + i + 1)]));
}
