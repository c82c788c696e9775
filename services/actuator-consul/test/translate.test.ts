import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { requiredParts } from "@meshloop/contracts";
import type { CapabilityPart } from "@meshloop/contracts";
import { renderGitops, translateConsul } from "../src/index.ts";
import type { ConsulContext, ConsulWrite, ServiceResolver, ServiceSplitter, Translation } from "../src/index.ts";
import { desiredStates, shuffledKeys } from "@meshloop/test-harness";
import { context, LATER, state } from "./fixtures.ts";

const DEPLOYMENT = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "checkout", namespace: "shop" } };

// Which written entry kind carries each part.
const CARRIER: Record<CapabilityPart, string[]> = {
  weights: ["service-resolver", "service-splitter"],
  retries: ["service-router"],
  retryBudget: [],
  requestTimeout: ["service-router"],
  connectionLimits: ["service-defaults"],
  ejectionTuning: ["service-defaults"],
  ejectChosenInstance: [],
  replicas: ["scale"],
  localityFailover: ["service-resolver"],
  rateLimit: ["service-defaults"],
  denyCaller: ["service-intentions"],
};

function richContext(): ConsulContext {
  return context({
    callers: [{ name: "web", defaults: null }],
    localityTargets: { "us-west1": { Datacenter: "dc-west" }, "eu-west1": { Peer: "eu" }, "us-east1": { Datacenter: "dc-east" } },
    workload: DEPLOYMENT,
  });
}

function kinds(result: Translation): string[] {
  return result.resources.map((w) => (w.action === "write" ? w.entry.Kind : w.action === "delete" ? `delete ${w.ref.kind}` : "scale"));
}

test("every part at once: resolver before splitter, then router, callers' defaults, rate limit, intentions, scale", () => {
  const result = translateConsul(
    state({
      weights: { v1: 90, v2: 10 },
      retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["5xx"], retriableStatusCodes: [], budget: { percent: 20, minRetriesPerSecond: 5 } },
      requestTimeoutMs: 3000,
      connectionLimits: { maxConnections: 64, maxPendingRequests: 16, maxRequests: 128, maxRetries: 4 },
      ejection: { consecutive5xx: 7, intervalMs: 5000, baseEjectionTimeMs: 15_000, maxEjectionPercent: 20, ejectInstances: [] },
      replicas: { count: 6, mode: "apply" },
      failover: { kind: "failover", fromLocality: "us-east1", toLocalities: ["us-west1"] },
      rateLimit: { requestsPerSecond: 400 },
      deniedCallers: [{ identity: "spiffe://cluster.local/ns/shop/sa/crawler", service: "crawler", reason: "scraping", leaseExpiresAt: LATER }],
    }),
    richContext(),
  );
  assert.deepEqual(kinds(result), ["service-resolver", "service-splitter", "service-router", "service-defaults", "service-defaults", "service-intentions", "scale"]);
  assert.deepEqual(result.unsupported.map((u) => u.capability), ["retryBudget"]);
  assert.deepEqual(result.refused, []);
  assert.deepEqual(result.failed, []);
});

test("a target of another mesh is a caller's bug, refused loudly", () => {
  const istio = { ...state(), target: { mesh: "istio" as const, namespace: "shop", service: "checkout" } };
  assert.throws(() => translateConsul(istio, context()), /cannot translate a istio target/);
});

test("property: splits sum to 100 and name only subsets the resolver written before them defines", () => {
  fc.assert(
    fc.property(desiredStates("consul"), (desired) => {
      const result = translateConsul(desired, richContext());
      const splitterAt = result.resources.findIndex((w) => w.action === "write" && w.entry.Kind === "service-splitter");
      if (splitterAt === -1) return;
      const splitter = (result.resources[splitterAt] as Extract<ConsulWrite, { action: "write" }>).entry as ServiceSplitter;
      assert.equal(splitter.Splits.reduce((sum, s) => sum + s.Weight, 0), 100);
      const resolver = result.resources.slice(0, splitterAt).find((w) => w.action === "write" && w.entry.Kind === "service-resolver");
      assert.ok(resolver !== undefined && resolver.action === "write");
      for (const split of splitter.Splits) assert.ok((resolver.entry as ServiceResolver).Subsets?.[split.ServiceSubset!] !== undefined, split.ServiceSubset);
    }),
    { numRuns: 200 },
  );
});

test("property: every part asked for is written by its carrier, or answered unsupported, refused, failed or recommended", () => {
  fc.assert(
    fc.property(desiredStates("consul"), fc.constantFrom("http", "tcp"), (desired, protocol) => {
      const result = translateConsul(desired, { ...richContext(), protocol });
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

test("property: the same desired state gives byte-identical GitOps files, whatever the key and entry order", () => {
  fc.assert(
    fc.property(desiredStates("consul"), fc.integer(), (desired, seed) => {
      const first = renderGitops(translateConsul(desired, richContext()).resources);
      assert.deepEqual(renderGitops(translateConsul(structuredClone(desired), richContext()).resources), first);
      const reordered = translateConsul(desired, richContext()).resources.reverse().map((w) => shuffledKeys(w, seed) as ConsulWrite);
      assert.deepEqual(renderGitops(reordered), first);
    }),
    { numRuns: 150 },
  );
});

test("GitOps files: entries as JSON for `consul config write`, Kind and Name first, no Raft indexes", () => {
  const output = renderGitops([
    { action: "write", cas: 12, entry: { Splits: [{ ServiceSubset: "v1", Weight: 100 }], Name: "checkout", Kind: "service-splitter", ModifyIndex: 12, CreateIndex: 3, Meta: { "managed-by": "meshloop" } } },
    { action: "delete", ref: { kind: "service-router", name: "checkout" }, cas: 4 },
  ]);
  assert.deepEqual(output, {
    files: [
      {
        path: "consul/service-splitter-checkout.json",
        content: '{\n  "Kind": "service-splitter",\n  "Name": "checkout",\n  "Meta": {\n    "managed-by": "meshloop"\n  },\n  "Splits": [\n    {\n      "ServiceSubset": "v1",\n      "Weight": 100\n    }\n  ]\n}\n',
      },
    ],
    deletions: ["consul/service-router-checkout.json"],
  });
  assert.throws(() => renderGitops([{ action: "delete", ref: { kind: "service-router", name: "../x" }, cas: 0 }]), /is not a Consul or Kubernetes name/);
});
