import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CAPABILITIES,
  CAPABILITY_PARTS,
  capabilityOf,
  emptyDesiredState,
  MESHES,
  requiredParts,
  unsupportedParts,
} from "../src/index.ts";
import { desiredState, target } from "./fixtures.ts";

test("every mesh has an entry for every part, with a how or a reason", () => {
  for (const mesh of MESHES) {
    assert.deepEqual(Object.keys(CAPABILITIES[mesh]).sort(), [...CAPABILITY_PARTS].sort());
    for (const part of CAPABILITY_PARTS) {
      const c = capabilityOf(mesh, part);
      assert.ok(c.support === "unsupported" ? c.reason.length > 0 : c.how.length > 0, `${mesh}.${part}`);
    }
  }
});

test("only the lab ejects a chosen instance; the lab's data plane has no locality routing, rate limiter or detector", () => {
  assert.deepEqual(
    MESHES.filter((mesh) => capabilityOf(mesh, "ejectChosenInstance").support !== "unsupported"),
    ["lab"],
  );
  assert.deepEqual(CAPABILITY_PARTS.filter((part) => capabilityOf("lab", part).support !== "native"), ["ejectionTuning", "localityFailover", "rateLimit"]);
});

test("the meshes' known gaps", () => {
  assert.equal(capabilityOf("linkerd", "connectionLimits").support, "unsupported");
  assert.equal(capabilityOf("linkerd", "localityFailover").support, "unsupported");
  assert.equal(capabilityOf("linkerd", "denyCaller").support, "partial");
  assert.equal(capabilityOf("istio", "retryBudget").support, "partial");
  assert.equal(capabilityOf("istio", "denyCaller").support, "partial");
  assert.equal(capabilityOf("consul", "denyCaller").support, "native");
  assert.equal(capabilityOf("consul", "connectionLimits").support, "partial");
  const consulFailover = capabilityOf("consul", "localityFailover");
  assert.ok(consulFailover.support !== "unsupported" && consulFailover.how.includes("service-resolver Failover"));
  const istioFailover = capabilityOf("istio", "localityFailover");
  assert.ok(istioFailover.support === "partial" && istioFailover.how.includes("localityLbSetting"));
});

test("requiredParts lists the non-null parts; an empty state requires nothing", () => {
  assert.deepEqual(requiredParts(emptyDesiredState(target)), []);
  assert.deepEqual(requiredParts(desiredState()), ["weights", "retries", "retryBudget", "requestTimeout"]);
});

test("unsupportedParts names what a mesh cannot do of a desired state, with reasons", () => {
  const state = desiredState({
    connectionLimits: { maxConnections: 100, maxPendingRequests: 50, maxRequests: 200, maxRetries: 3 },
    ejection: {
      consecutive5xx: 3,
      intervalMs: 5000,
      baseEjectionTimeMs: 30_000,
      maxEjectionPercent: 20,
      ejectInstances: [{ instanceId: "checkout-1", leaseExpiresAt: "2025-05-01T12:00:00Z", reason: "5xx" }],
    },
    deniedCallers: [{ identity: "spiffe://cluster.local/ns/web/sa/bot", reason: "abuse" }],
  });
  const linkerd = unsupportedParts("linkerd", state);
  assert.deepEqual(linkerd.map((u) => u.part), ["retryBudget", "connectionLimits", "ejectChosenInstance"]);
  assert.match(linkerd[1]!.reason, /no connection-pool limits/);
  assert.deepEqual(unsupportedParts("istio", state).map((u) => u.part), ["ejectChosenInstance"]);
  assert.deepEqual(unsupportedParts("lab", state), []);
  assert.deepEqual(unsupportedParts("lab", desiredState({ rateLimit: { requestsPerSecond: 10 } })).map((u) => u.part), ["rateLimit"]);
});
