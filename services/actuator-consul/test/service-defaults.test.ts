import assert from "node:assert/strict";
import { test } from "node:test";
import { capabilityOf } from "@meshloop/contracts";
import { translateConsul } from "../src/index.ts";
import type { ServiceDefaults } from "../src/index.ts";
import { context, LATER, originals, OWNED_META, state, withoutRecords, written } from "./fixtures.ts";

const LIMITS = { maxConnections: 100, maxPendingRequests: 10, maxRequests: 200, maxRetries: 3 };
const EJECTION = { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50, ejectInstances: [] };

function webDefaults(): ServiceDefaults {
  return {
    Kind: "service-defaults",
    Name: "web",
    Protocol: "http",
    UpstreamConfig: {
      Defaults: { Limits: { MaxConnections: 512 } },
      Overrides: [
        { Name: "cart", Limits: { MaxConnections: 50 } },
        { Name: "checkout", Limits: { MaxConnections: 1 }, PassiveHealthCheck: { Interval: "1s", MaxFailures: 1, EnforcingConsecutive5xx: 10 } },
      ],
    },
    ModifyIndex: 300,
  };
}

test("limits and passive health checks go into each caller's service-defaults override for the target", () => {
  const result = translateConsul(state({ connectionLimits: LIMITS, ejection: EJECTION }), context({ callers: [{ name: "web", defaults: webDefaults() }, { name: "api", defaults: null }] }));
  assert.deepEqual(originals(written(result.resources, "service-defaults", "web").entry), {
    "UpstreamConfig.Overrides[checkout].Limits": { MaxConnections: 1 },
    "UpstreamConfig.Overrides[checkout].PassiveHealthCheck": { Interval: "1s", MaxFailures: 1, EnforcingConsecutive5xx: 10 },
  }, "the user's override fields are recorded as found; meshloop's own entry for api carries no record");
  assert.deepEqual(written(result.resources, "service-defaults", "api").entry.Meta, OWNED_META, "an entry meshloop creates carries no record: a release deletes it");
  assert.deepEqual(withoutRecords(result.resources), [
    {
      action: "write",
      cas: 0,
      entry: {
        Kind: "service-defaults",
        Name: "api",
        Meta: OWNED_META,
        UpstreamConfig: {
          Overrides: [
            {
              Name: "checkout",
              Limits: { MaxConnections: 100, MaxPendingRequests: 10, MaxConcurrentRequests: 200 },
              PassiveHealthCheck: { Interval: "10s", MaxFailures: 5, EnforcingConsecutive5xx: 100, MaxEjectionPercent: 50, BaseEjectionTime: "30s" },
            },
          ],
        },
      },
    },
    {
      action: "write",
      cas: 300,
      entry: {
        Kind: "service-defaults",
        Name: "web",
        Protocol: "http",
        UpstreamConfig: {
          Defaults: { Limits: { MaxConnections: 512 } },
          Overrides: [
            { Name: "cart", Limits: { MaxConnections: 50 } },
            {
              Name: "checkout",
              Limits: { MaxConnections: 100, MaxPendingRequests: 10, MaxConcurrentRequests: 200 },
              PassiveHealthCheck: { Interval: "10s", MaxFailures: 5, EnforcingConsecutive5xx: 100, MaxEjectionPercent: 50, BaseEjectionTime: "30s" },
            },
          ],
        },
      },
    },
  ]);
  assert.ok(result.warnings.includes("Consul has no limit on concurrent retries; maxRetries is not applied"));
});

test("ejecting a chosen instance is unsupported and tightens the passive health check instead", () => {
  const ejection = { ...EJECTION, maxEjectionPercent: 10, ejectInstances: [{ instanceId: "checkout-2", leaseExpiresAt: LATER, reason: "slow" }] };
  const result = translateConsul(state({ ejection }), context({ callers: [{ name: "api", defaults: null }], instances: 5 }));
  assert.deepEqual(result.unsupported, [{ capability: "ejectChosenInstance", reason: (capabilityOf("consul", "ejectChosenInstance") as { reason: string }).reason }]);
  const entry = written(result.resources, "service-defaults", "api").entry as ServiceDefaults;
  assert.deepEqual(entry.UpstreamConfig?.Overrides?.[0]?.PassiveHealthCheck, { Interval: "5s", MaxFailures: 3, EnforcingConsecutive5xx: 100, MaxEjectionPercent: 20, BaseEjectionTime: "30s" });
});

test("with no caller known there is nowhere to put limits: unsupported, with the reason", () => {
  const result = translateConsul(state({ connectionLimits: LIMITS }), context());
  assert.deepEqual(result.unsupported, [{ capability: "connectionLimits", reason: "no caller of the target is known, and Consul keeps these settings in each caller's service-defaults" }]);
  assert.deepEqual(result.resources, []);
});

test("a caller whose service-defaults consul-k8s reconciles is refused; the other callers are still written", () => {
  const crd = { ...webDefaults(), Meta: { "external-source": "kubernetes" } };
  const result = translateConsul(state({ connectionLimits: LIMITS }), context({ callers: [{ name: "web", defaults: crd }, { name: "api", defaults: null }] }));
  assert.deepEqual(result.refused.map((r) => [r.ref.name, r.capabilities]), [["web", ["connectionLimits"]]]);
  assert.deepEqual(result.resources.map((w) => (w.action === "write" ? w.entry.Name : w.action)), ["api"]);
});

test("a rate limit goes into the target's service-defaults per instance, keeping the user's protocol", () => {
  const own: ServiceDefaults = { Kind: "service-defaults", Name: "checkout", Protocol: "http", ModifyIndex: 12 };
  const result = translateConsul(state({ rateLimit: { requestsPerSecond: 100 } }), context({ serviceDefaults: own, instances: 4 }));
  assert.deepEqual(withoutRecords(result.resources), [{ action: "write", cas: 12, entry: { Kind: "service-defaults", Name: "checkout", Protocol: "http", RateLimits: { InstanceLevel: { RequestsPerSecond: 25 } } } }]);
  assert.deepEqual(originals(written(result.resources, "service-defaults").entry), { RateLimits: undefined }, "RateLimits were absent");
  const rounded = translateConsul(state({ rateLimit: { requestsPerSecond: 10 } }), context({ instances: 3 }));
  assert.ok(rounded.warnings.includes("whole requests per instance give 9 requests/s in all, not 10"));
});
