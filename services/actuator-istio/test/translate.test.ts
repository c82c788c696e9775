import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { requiredParts } from "@meshloop/contracts";
import type { CapabilityPart } from "@meshloop/contracts";
import { DestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import { VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { EnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import { AuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import { translateIstio } from "../src/index.ts";
import type { Translation } from "../src/index.ts";
import { desiredStates } from "@meshloop/test-harness";
import { context, LATER, specOf, state } from "./fixtures.ts";

const DEPLOYMENT = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "checkout", namespace: "shop" } };

// Which written kind carries each part; `scale` stands for the scale subresource.
const CARRIER: Record<CapabilityPart, string[]> = {
  weights: ["VirtualService", "DestinationRule"],
  retries: ["VirtualService"],
  retryBudget: ["DestinationRule"],
  requestTimeout: ["VirtualService"],
  connectionLimits: ["DestinationRule"],
  ejectionTuning: ["DestinationRule"],
  ejectChosenInstance: [],
  replicas: ["scale"],
  localityFailover: ["DestinationRule"],
  rateLimit: ["EnvoyFilter"],
  denyCaller: ["AuthorizationPolicy"],
};

function kinds(result: Translation): string[] {
  return result.resources.map((w) => (w.action === "scale" ? "scale" : w.action === "delete" ? `delete ${w.ref.kind}` : w.object.kind));
}

test("every part at once: DestinationRule before the VirtualService that names its subsets, then policy, filter, scale", () => {
  const result = translateIstio(
    state({
      weights: { v1: 90, v2: 10 },
      retries: { attempts: 2, perTryTimeoutMs: 500, retryOn: ["5xx", "connect-failure"], retriableStatusCodes: [], budget: { percent: 25, minRetriesPerSecond: 4 } },
      requestTimeoutMs: 3000,
      connectionLimits: { maxConnections: 64, maxPendingRequests: 16, maxRequests: 128, maxRetries: 4 },
      ejection: { consecutive5xx: 7, intervalMs: 5000, baseEjectionTimeMs: 15_000, maxEjectionPercent: 20, ejectInstances: [] },
      replicas: { count: 6, mode: "apply" },
      failover: { kind: "failover", fromLocality: "us-east1", toLocalities: ["us-west1"] },
      rateLimit: { requestsPerSecond: 400 },
      deniedCallers: [{ identity: "spiffe://cluster.local/ns/shop/sa/crawler", reason: "scraping", leaseExpiresAt: LATER }],
    }),
    context({ workload: DEPLOYMENT }),
  );
  assert.deepEqual(kinds(result), ["DestinationRule", "VirtualService", "AuthorizationPolicy", "EnvoyFilter", "scale"]);
  assert.deepEqual(result.unsupported, []);
  assert.deepEqual(result.refused, []);
  assert.deepEqual(result.failed, []);
  assert.deepEqual(specOf(result.resources[0]), {
    host: "checkout.shop.svc.cluster.local",
    subsets: [
      { name: "v1", labels: { version: "v1" } },
      { name: "v2", labels: { version: "v2" } },
    ],
    trafficPolicy: {
      outlierDetection: { consecutive5xxErrors: 7, interval: "5s", baseEjectionTime: "15s", maxEjectionPercent: 20 },
      connectionPool: { tcp: { maxConnections: 64 }, http: { http1MaxPendingRequests: 16, http2MaxRequests: 128, maxRetries: 4 } },
      retryBudget: { percent: 25, minRetryConcurrency: 2 },
      loadBalancer: { localityLbSetting: { enabled: true, failover: [{ from: "us-east1", to: "us-west1" }] } },
    },
  });
});

test("a target of another mesh is a caller's bug, refused loudly", () => {
  const linkerd = { ...state(), target: { mesh: "linkerd" as const, namespace: "shop", service: "checkout" } };
  assert.throws(() => translateIstio(linkerd, context()), /cannot translate a linkerd target/);
});

test("property: every object written passes @kubernetes-models/istio validation", () => {
  fc.assert(
    fc.property(desiredStates("istio"), (desired) => {
      for (const write of translateIstio(desired, context({ workload: DEPLOYMENT })).resources) {
        if (write.action !== "apply" && write.action !== "update") continue;
        const model = { VirtualService, DestinationRule, AuthorizationPolicy, EnvoyFilter }[write.object.kind as "VirtualService"];
        assert.ok(model !== undefined, write.object.kind);
        assert.doesNotThrow(() => new model(write.object as never).validate(), JSON.stringify(write.object));
      }
    }),
    { numRuns: 200 },
  );
});

test("property: every part asked for is written by its carrier, or answered unsupported, refused, failed or recommended", () => {
  fc.assert(
    fc.property(desiredStates("istio"), fc.boolean(), (desired, knownWorkload) => {
      const result = translateIstio(desired, context({ workload: knownWorkload ? DEPLOYMENT : null, nowMs: Date.parse("2025-05-01T12:00:00Z") }));
      const written = new Set(kinds(result));
      const answered = new Set<CapabilityPart>([
        ...result.unsupported.map((u) => u.capability),
        ...result.refused.flatMap((r) => r.capabilities),
        ...result.failed.flatMap((f) => f.capabilities),
        ...result.recommendations.map((r) => r.capability),
      ]);
      for (const part of requiredParts(desired)) {
        const carried = CARRIER[part].length > 0 && CARRIER[part].every((kind) => written.has(kind));
        assert.ok(carried || answered.has(part), `${part} is neither written nor answered: ${JSON.stringify(result)}`);
      }
    }),
    { numRuns: 200 },
  );
});
