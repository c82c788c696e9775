import assert from "node:assert/strict";
import { test } from "node:test";
import { capabilityOf } from "@meshloop/contracts";
import { translateLinkerd } from "../src/index.ts";
import type { TargetService } from "../src/index.ts";
import { context, LATER, state } from "./fixtures.ts";

const EJECTION = { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, ejectInstances: [] };
const SERVICE_PATCH_BASE = { apiVersion: "v1", kind: "Service" };

function unsupportedReason(part: "retryBudget" | "connectionLimits" | "localityFailover" | "ejectChosenInstance"): string {
  return (capabilityOf("linkerd", part) as { reason: string }).reason;
}

test("retries and the request timeout become the Service's annotations, values with units, by partial apply", () => {
  const result = translateLinkerd(
    state({
      retries: { attempts: 3, perTryTimeoutMs: 250, retryOn: ["5xx", "gateway-error", "retriable-status-codes", "unavailable", "reset"], retriableStatusCodes: [503, 429], budget: null },
      requestTimeoutMs: 2000,
    }),
    context(),
  );
  assert.deepEqual(result.resources, [
    {
      action: "apply",
      partial: true,
      object: {
        ...SERVICE_PATCH_BASE,
        metadata: {
          name: "checkout",
          namespace: "shop",
          annotations: {
            "retry.linkerd.io/grpc": "unavailable",
            "retry.linkerd.io/http": "5xx,gateway-error,429,503",
            "retry.linkerd.io/limit": "3",
            "retry.linkerd.io/timeout": "250ms",
            "timeout.linkerd.io/request": "2s",
          },
        },
      },
    },
  ]);
  assert.deepEqual(result.warnings, ["Linkerd has no retry condition for reset; retried on the others"]);
});

test("ejection tuning becomes consecutive failure accrual; what Linkerd cannot express is said", () => {
  const result = translateLinkerd(state({ ejection: EJECTION }), context());
  assert.deepEqual(result.resources, [
    {
      action: "apply",
      partial: true,
      object: {
        ...SERVICE_PATCH_BASE,
        metadata: {
          name: "checkout",
          namespace: "shop",
          annotations: {
            "balancer.linkerd.io/failure-accrual": "consecutive",
            "balancer.linkerd.io/failure-accrual-consecutive-max-failures": "5",
            "balancer.linkerd.io/failure-accrual-consecutive-max-penalty": "60s",
            "balancer.linkerd.io/failure-accrual-consecutive-min-penalty": "30s",
          },
        },
      },
    },
  ]);
  assert.ok(result.warnings.some((w) => w.includes("no interval and no maximum ejection share")));
});

test("ejecting a chosen instance is unsupported and tightens the failure accrual instead", () => {
  const ejection = { ...EJECTION, ejectInstances: [{ instanceId: "checkout-7d9f-abc", leaseExpiresAt: LATER, reason: "slow" }] };
  const result = translateLinkerd(state({ ejection }), context());
  assert.deepEqual(result.unsupported, [{ capability: "ejectChosenInstance", reason: unsupportedReason("ejectChosenInstance") }]);
  const write = result.resources[0]!;
  assert.ok(write.action === "apply");
  assert.equal(write.object.metadata?.annotations?.["balancer.linkerd.io/failure-accrual-consecutive-max-failures"], "3");
});

test("zero attempts write a limit of 0 and no condition", () => {
  const result = translateLinkerd(state({ retries: { attempts: 0, perTryTimeoutMs: 100, retryOn: ["5xx"], retriableStatusCodes: [], budget: null } }), context());
  const write = result.resources[0]!;
  assert.ok(write.action === "apply");
  assert.deepEqual(write.object.metadata?.annotations, { "retry.linkerd.io/limit": "0" });
});

test("retries only on conditions Linkerd lacks are unsupported, not written as retries on nothing", () => {
  const result = translateLinkerd(state({ retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["reset", "connect-failure"], retriableStatusCodes: [], budget: null } }), context());
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.unsupported, [{ capability: "retries", reason: "Linkerd has no retry condition for reset, connect-failure" }]);
});

test("a retry budget, connection limits and locality failover are unsupported with the capability matrix's reasons", () => {
  const result = translateLinkerd(
    state({
      retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["5xx"], retriableStatusCodes: [], budget: { percent: 20, minRetriesPerSecond: 5 } },
      connectionLimits: { maxConnections: 10, maxPendingRequests: 10, maxRequests: 10, maxRetries: 1 },
      failover: { kind: "failover", fromLocality: "us-east1", toLocalities: ["us-west1"] },
    }),
    context(),
  );
  assert.deepEqual(result.unsupported, [
    { capability: "retryBudget", reason: unsupportedReason("retryBudget") },
    { capability: "connectionLimits", reason: unsupportedReason("connectionLimits") },
    { capability: "localityFailover", reason: unsupportedReason("localityFailover") },
  ]);
  const write = result.resources[0]!;
  assert.ok(write.action === "apply");
  assert.deepEqual(write.object.metadata?.annotations, { "retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "2" });
});

test("a ServiceProfile silences routes and annotations: those parts fail with the reason, inbound policy still goes", () => {
  const profile = { apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name: "checkout.shop.svc.cluster.local", namespace: "shop" } };
  const server = { apiVersion: "policy.linkerd.io/v1beta3", kind: "Server", metadata: { name: "checkout-http", namespace: "shop" }, spec: { port: 8080 } };
  const result = translateLinkerd(state({ weights: { v1: 90, v2: 10 }, requestTimeoutMs: 1000, rateLimit: { requestsPerSecond: 40 } }), context({ serviceProfile: profile, server }));
  assert.deepEqual(result.failed.map((f) => f.capabilities), [["weights", "requestTimeout"]]);
  assert.match(result.failed[0]!.reason, /^ServiceProfile shop\/checkout\.shop\.svc\.cluster\.local exists for the Service: Linkerd's proxies then ignore HTTPRoutes/);
  assert.deepEqual(result.resources.map((w) => (w.action === "apply" ? w.object.kind : w.action)), ["HTTPLocalRateLimitPolicy"]);
});

test("nothing asked any more releases meshloop's annotations by an empty apply; never applied before, nothing", () => {
  const applied: TargetService = { ...context().service, metadata: { name: "checkout", namespace: "shop", managedFields: [{ manager: "meshloop", operation: "Apply" }] } };
  assert.deepEqual(translateLinkerd(state(), context({ service: applied })).resources, [
    { action: "apply", partial: true, object: { ...SERVICE_PATCH_BASE, metadata: { name: "checkout", namespace: "shop", annotations: {} } } },
  ]);
  assert.deepEqual(translateLinkerd(state(), context()).resources, []);
});

test("a Service Argo CD tracks is refused for the annotation parts", () => {
  const tracked: TargetService = { ...context().service, metadata: { name: "checkout", namespace: "shop", annotations: { "argocd.argoproj.io/tracking-id": "shop:/Service:shop/checkout" } } };
  const result = translateLinkerd(state({ requestTimeoutMs: 1000 }), context({ service: tracked }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.refused.map((r) => [r.ref.kind, r.capabilities]), [["Service", ["requestTimeout"]]]);
});

test("a user route with its own retry annotations, which override the Service's, is named", () => {
  const route = {
    apiVersion: "gateway.networking.k8s.io/v1" as const,
    kind: "HTTPRoute" as const,
    metadata: { name: "checkout-admin", namespace: "shop", annotations: { "retry.linkerd.io/http": "5xx" } },
    spec: { parentRefs: [{ group: "core", kind: "Service", name: "checkout" }], rules: [{ matches: [{ path: { type: "PathPrefix" as const, value: "/admin" } }] }] },
  };
  const result = translateLinkerd(state({ requestTimeoutMs: 1000 }), context({ httpRoutes: [route] }));
  assert.deepEqual(result.warnings, ["HTTPRoute checkout-admin has its own retry or timeout annotations, which override the Service's for its traffic"]);
});
