import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { requiredParts } from "@meshloop/contracts";
import type { CapabilityPart } from "@meshloop/contracts";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { renderGitops, translateLinkerd } from "../src/index.ts";
import type { KubeWrite, LinkerdContext, LinkerdServer, Translation } from "../src/index.ts";
import { desiredStates, shuffledKeys } from "@meshloop/test-harness";
import { context, LATER, state } from "./fixtures.ts";

const DEPLOYMENT = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "checkout", namespace: "shop" } };
const SERVER: LinkerdServer = { apiVersion: "policy.linkerd.io/v1beta3", kind: "Server", metadata: { name: "checkout-http", namespace: "shop" }, spec: { port: 8080 } };

// Which written kind carries each part; the annotations travel on the Service.
const CARRIER: Record<CapabilityPart, string[]> = {
  weights: ["HTTPRoute"],
  retries: ["Service"],
  retryBudget: [],
  requestTimeout: ["Service"],
  connectionLimits: [],
  ejectionTuning: ["Service"],
  ejectChosenInstance: [],
  replicas: ["scale"],
  localityFailover: [],
  rateLimit: ["HTTPLocalRateLimitPolicy"],
  denyCaller: ["MeshTLSAuthentication"],
};

function richContext(): LinkerdContext {
  return context({
    server: SERVER,
    workload: DEPLOYMENT,
    backendServices: ["checkout-v1", "checkout-v2", "checkout-v3", "checkout-1-2-0", "checkout-canary"],
    allowListFromObservedCallers: true,
    observedCallers: ["spiffe://cluster.local/ns/shop/sa/web"],
  });
}

function kinds(result: Translation): string[] {
  return result.resources.map((w) => (w.action === "scale" ? "scale" : w.action === "delete" ? `delete ${w.ref.kind}` : w.object.kind));
}

test("every part at once: route, Service annotations, rate limit, allow list, scale; what Linkerd lacks is unsupported", () => {
  const result = translateLinkerd(
    state({
      weights: { v1: 90, v2: 10 },
      retries: { attempts: 2, perTryTimeoutMs: 500, retryOn: ["5xx"], retriableStatusCodes: [], budget: null },
      requestTimeoutMs: 3000,
      connectionLimits: { maxConnections: 64, maxPendingRequests: 16, maxRequests: 128, maxRetries: 4 },
      ejection: { consecutive5xx: 7, intervalMs: 5000, baseEjectionTimeMs: 15_000, maxEjectionPercent: 20, ejectInstances: [] },
      replicas: { count: 6, mode: "apply" },
      failover: { kind: "failover", fromLocality: "us-east1", toLocalities: ["us-west1"] },
      rateLimit: { requestsPerSecond: 400 },
      deniedCallers: [{ identity: "spiffe://cluster.local/ns/shop/sa/crawler", reason: "scraping", leaseExpiresAt: LATER }],
    }),
    richContext(),
  );
  assert.deepEqual(kinds(result), ["HTTPRoute", "Service", "HTTPLocalRateLimitPolicy", "scale"]);
  assert.deepEqual(result.unsupported.map((u) => u.capability), ["connectionLimits", "localityFailover"]);
  assert.deepEqual(result.refused, []);
  assert.deepEqual(result.failed, []);
  assert.ok(result.warnings.some((w) => w.includes("Server checkout-http denies every caller")));
});

test("a target of another mesh is a caller's bug, refused loudly", () => {
  const istio = { ...state(), target: { mesh: "istio" as const, namespace: "shop", service: "checkout" } };
  assert.throws(() => translateLinkerd(istio, context()), /cannot translate a istio target/);
});

test("property: every HTTPRoute written passes @kubernetes-models/gateway-api validation", () => {
  fc.assert(
    fc.property(desiredStates("linkerd"), (desired) => {
      for (const write of translateLinkerd(desired, richContext()).resources) {
        if ((write.action === "apply" || write.action === "update") && write.object.kind === "HTTPRoute") {
          assert.doesNotThrow(() => new HTTPRoute(write.object as IHTTPRoute).validate());
        }
      }
    }),
    { numRuns: 200 },
  );
});

test("property: every part asked for is written by its carrier, or answered unsupported, refused, failed or recommended", () => {
  fc.assert(
    fc.property(desiredStates("linkerd"), fc.boolean(), (desired, profile) => {
      const ctx = { ...richContext(), serviceProfile: profile ? { apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name: "checkout.shop.svc.cluster.local" } } : null };
      const result = translateLinkerd(desired, ctx);
      const written = new Set(kinds(result));
      const answered = new Set<CapabilityPart>([
        ...result.unsupported.map((u) => u.capability),
        ...result.refused.flatMap((r) => r.capabilities),
        ...result.failed.flatMap((f) => f.capabilities),
        ...result.recommendations.map((r) => r.capability),
      ]);
      // A Server that already denies everyone carries a denial with no write, and says so.
      const alreadyDenied = result.warnings.some((w) => w.includes("denies every caller"));
      for (const part of requiredParts(desired)) {
        const carried = CARRIER[part].length > 0 && CARRIER[part].every((kind) => written.has(kind));
        assert.ok(carried || answered.has(part) || (part === "denyCaller" && alreadyDenied), `${part} is neither written nor answered: ${JSON.stringify(result)}`);
      }
    }),
    { numRuns: 200 },
  );
});

test("property: the same desired state gives byte-identical GitOps files, whatever the key and resource order", () => {
  fc.assert(
    fc.property(desiredStates("linkerd"), fc.integer(), (desired, seed) => {
      const first = renderGitops(translateLinkerd(desired, richContext()).resources);
      assert.deepEqual(renderGitops(translateLinkerd(structuredClone(desired), richContext()).resources), first);
      const reordered = translateLinkerd(desired, richContext()).resources.reverse().map((w) => shuffledKeys(w, seed) as KubeWrite);
      assert.deepEqual(renderGitops(reordered), first);
    }),
    { numRuns: 150 },
  );
});

test("GitOps files: the Service's annotations are a patch file, the route a manifest", () => {
  const result = translateLinkerd(state({ weights: { v1: 90, v2: 10 }, requestTimeoutMs: 2000 }), context());
  const output = renderGitops(result.resources);
  assert.deepEqual(output.files.map((f) => f.path), ["shop/httproute-checkout-meshloop.yaml", "shop/service-checkout.patch.yaml"]);
  assert.equal(
    output.files[1]!.content,
    ["apiVersion: v1", "kind: Service", "metadata:", "  name: checkout", "  namespace: shop", "  annotations:", "    timeout.linkerd.io/request: 2s", ""].join("\n"),
  );
});

test("a user's catch-all route that cannot be written leaves meshloop's own route carrying the split, and names the user's route", () => {
  const owned: IHTTPRoute = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "checkout-meshloop", namespace: "shop", labels: { "app.kubernetes.io/managed-by": "meshloop" } }, spec: {} };
  const user: IHTTPRoute = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "checkout-users", namespace: "shop" },
    spec: { parentRefs: [{ group: "core", kind: "Service", name: "checkout" }], rules: [{ backendRefs: [{ name: "checkout", port: 8080 }] }] },
  };
  // A port the schema refuses: the merged route fails validation.
  const ports = { "checkout-v1": [{ port: 70_000 }], "checkout-v2": [{ port: 70_000 }] };
  const result = translateLinkerd(state({ weights: { v1: 50, v2: 50 }, requestTimeoutMs: 1000 }), context({ port: 70_000, httpRoutes: [owned, user], backendPorts: ports }));
  assert.deepEqual(kinds(result), ["Service"], "no delete of meshloop's route; the timeout, another part, is still written");
  assert.deepEqual(result.failed.map((f) => [f.capabilities, f.ref]), [[["weights"], { kind: "HTTPRoute", name: "checkout-users", namespace: "shop" }]]);
});

test("a catch-all rule meshloop will not reroute fails the weights naming that route", () => {
  const user: IHTTPRoute = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "checkout-legacy", namespace: "shop" },
    spec: { parentRefs: [{ group: "core", kind: "Service", name: "checkout" }], rules: [{ backendRefs: [{ name: "checkout", namespace: "legacy", port: 8080 }] }] },
  };
  const result = translateLinkerd(state({ weights: { v1: 50, v2: 50 } }), context({ httpRoutes: [user] }));
  assert.deepEqual(result.failed[0]?.ref, { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", namespace: "shop", name: "checkout-legacy" });
});
