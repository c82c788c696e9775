import assert from "node:assert/strict";
import { test } from "node:test";
import { capabilityOf } from "@meshloop/contracts";
import { DestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { translateIstio } from "../src/index.ts";
import type { Translation } from "../src/index.ts";
import { context, LATER, MANAGED, originals, specOf, state, withoutRecord } from "./fixtures.ts";

const HOST = "checkout.shop.svc.cluster.local";
const EJECTION = { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, ejectInstances: [] };

function destinationRule(result: Translation): IDestinationRule {
  const write = result.resources.find((w) => (w.action === "apply" || w.action === "update") && w.object.kind === "DestinationRule");
  assert.ok(write !== undefined && write.action !== "delete" && write.action !== "scale", "a DestinationRule is written");
  assert.doesNotThrow(() => new DestinationRule(write.object as IDestinationRule).validate());
  return write.object as IDestinationRule;
}

function userDestinationRule(): IDestinationRule {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "checkout", namespace: "shop", resourceVersion: "99" },
    spec: {
      host: "checkout",
      subsets: [
        { name: "stable", labels: { track: "stable" } },
        { name: "v2", labels: { version: "v2" } },
      ],
      trafficPolicy: {
        tls: { mode: "ISTIO_MUTUAL" },
        loadBalancer: { simple: "LEAST_REQUEST" },
        connectionPool: { tcp: { connectTimeout: "3s" } },
      },
    },
  };
}

test("weights' subsets select pods by the version label", () => {
  assert.deepEqual(destinationRule(translateIstio(state({ weights: { v1: 90, v2: 10 } }), context())), {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED },
    spec: {
      host: HOST,
      subsets: [
        { name: "v1", labels: { version: "v1" } },
        { name: "v2", labels: { version: "v2" } },
      ],
    },
  });
});

test("subset names follow the resolution template and the version label is configurable", () => {
  const rule = destinationRule(
    translateIstio(state({ weights: { "1.2.0": 100 } }), context({ resolution: { subsetTemplate: "{service}-{version}" }, versionLabel: "app.kubernetes.io/version" })),
  );
  assert.deepEqual(rule.spec?.subsets, [{ name: "checkout-1-2-0", labels: { "app.kubernetes.io/version": "1.2.0" } }]);
});

test("connection limits become the connection pool, ejection tuning the outlier detection", () => {
  const result = translateIstio(
    state({ connectionLimits: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 200, maxRetries: 3 }, ejection: { ...EJECTION, maxEjectionPercent: 50 } }),
    context(),
  );
  assert.deepEqual(destinationRule(result).spec, {
    host: HOST,
    trafficPolicy: {
      outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
      connectionPool: { tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 10, http2MaxRequests: 200, maxRetries: 3 } },
    },
  });
  assert.equal(result.resources.length, 1, "limits and ejection need no VirtualService");
});

test("ejecting a chosen instance is unsupported and tightens the ejection settings instead", () => {
  const ejection = { ...EJECTION, ejectInstances: [{ instanceId: "checkout-7d9f-abc", leaseExpiresAt: LATER, reason: "p99 5x its peers" }] };
  const result = translateIstio(state({ ejection }), context({ endpoints: 4 }));
  assert.deepEqual(result.unsupported, [{ capability: "ejectChosenInstance", reason: (capabilityOf("istio", "ejectChosenInstance") as { reason: string }).reason }]);
  assert.deepEqual(destinationRule(result).spec?.trafficPolicy?.outlierDetection, {
    consecutive5xxErrors: 3,
    interval: "5s",
    baseEjectionTime: "30s",
    maxEjectionPercent: 25,
  });
  assert.ok(result.warnings.some((w) => w.includes("checkout-7d9f-abc") && w.includes("5 -> 3")));
});

test("an ejection whose lease ran out is no longer asked for: plain settings, nothing unsupported", () => {
  const ejection = { ...EJECTION, ejectInstances: [{ instanceId: "checkout-7d9f-abc", leaseExpiresAt: "2025-05-01T11:59:59Z", reason: "slow" }] };
  const result = translateIstio(state({ ejection }), context());
  assert.deepEqual(result.unsupported, []);
  assert.equal(destinationRule(result).spec?.trafficPolicy?.outlierDetection?.consecutive5xxErrors, 5);
});

test("a retry budget goes to trafficPolicy.retryBudget, its rate floor as concurrent retries", () => {
  const retries = { attempts: 2, perTryTimeoutMs: 250, retryOn: ["5xx" as const], retriableStatusCodes: [], budget: { percent: 20, minRetriesPerSecond: 10 } };
  const result = translateIstio(state({ retries }), context());
  assert.deepEqual(destinationRule(result).spec?.trafficPolicy, { retryBudget: { percent: 20, minRetryConcurrency: 3 } });
});

test("Istio before 1.27 has no retry budget: unsupported, the retries themselves still written", () => {
  const retries = { attempts: 2, perTryTimeoutMs: 250, retryOn: ["5xx" as const], retriableStatusCodes: [], budget: { percent: 20, minRetriesPerSecond: 10 } };
  const result = translateIstio(state({ retries }), context({ istioVersion: "1.26.3" }));
  assert.deepEqual(result.unsupported, [{ capability: "retryBudget", reason: "Istio 1.26.3 has no trafficPolicy.retryBudget (added in 1.27)" }]);
  assert.deepEqual(result.resources.map((w) => (w.action === "apply" ? w.object.kind : w.action)), ["VirtualService"]);
});

test("locality failover names the next region and brings the outlier detection it needs", () => {
  const result = translateIstio(state({ failover: { kind: "failover", fromLocality: "us-east1", toLocalities: ["us-west1", "eu-west1"] } }), context());
  assert.deepEqual(destinationRule(result).spec?.trafficPolicy, {
    outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 10 },
    loadBalancer: { localityLbSetting: { enabled: true, failover: [{ from: "us-east1", to: "us-west1" }] } },
  });
  assert.ok(result.warnings.some((w) => w.includes("eu-west1")), "the region Istio cannot list is named");
});

test("weighted distribution maps onto localityLbSetting.distribute with wildcards", () => {
  const failover = { kind: "distribute" as const, fromLocality: "us-east1/us-east1-b", distribution: { "us-east1/us-east1-c": 20, "us-east1/us-east1-b": 80 } };
  const result = translateIstio(state({ failover, ejection: EJECTION }), context());
  assert.deepEqual(destinationRule(result).spec?.trafficPolicy?.loadBalancer, {
    localityLbSetting: { enabled: true, distribute: [{ from: "us-east1/us-east1-b/*", to: { "us-east1/us-east1-b/*": 80, "us-east1/us-east1-c/*": 20 } }] },
  });
});

test("in a user's DestinationRule meshloop adds its missing subsets and fields; the user's subsets and policy stay", () => {
  const user = userDestinationRule();
  const result = translateIstio(
    state({ weights: { v1: 90, v2: 10 }, connectionLimits: { maxConnections: 50, maxPendingRequests: 5, maxRequests: 80, maxRetries: 2 } }),
    context({ destinationRule: user }),
  );
  const write = result.resources[0]!;
  assert.equal(write.action, "update");
  assert.deepEqual(originals(destinationRule(result)), {
    "spec.subsets[v1]": {},
    "spec.trafficPolicy.connectionPool": { original: { tcp: { connectTimeout: "3s" } } },
  }, "the subset meshloop added and the policy field it changed are recorded as found; the user's v2 is not");
  assert.deepEqual(withoutRecord(destinationRule(result)), {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "checkout", namespace: "shop", resourceVersion: "99" },
    spec: {
      host: "checkout",
      subsets: [
        { name: "stable", labels: { track: "stable" } },
        { name: "v2", labels: { version: "v2" } },
        { name: "v1", labels: { version: "v1" } },
      ],
      trafficPolicy: {
        tls: { mode: "ISTIO_MUTUAL" },
        loadBalancer: { simple: "LEAST_REQUEST" },
        connectionPool: { tcp: { connectTimeout: "3s", maxConnections: 50 }, http: { http1MaxPendingRequests: 5, http2MaxRequests: 80, maxRetries: 2 } },
      },
    },
  });
  assert.deepEqual(user, userDestinationRule(), "the object read from the cluster is not mutated");
});

test("a user's subset of the same name keeps the user's labels, with a warning", () => {
  const user = userDestinationRule();
  user.spec!.subsets![1] = { name: "v2", labels: { "rollouts-pod-template-hash": "abc" } };
  const result = translateIstio(state({ weights: { v1: 90, v2: 10 } }), context({ destinationRule: user }));
  assert.deepEqual(destinationRule(result).spec?.subsets?.[1], { name: "v2", labels: { "rollouts-pod-template-hash": "abc" } });
  assert.ok(result.warnings.some((w) => w.startsWith("subset v2 keeps the user's labels")));
});

test("a subset-level policy that shadows meshloop's is named in the warnings", () => {
  const user = userDestinationRule();
  user.spec!.subsets![0]!.trafficPolicy = { outlierDetection: { consecutive5xxErrors: 50 } };
  const result = translateIstio(state({ ejection: EJECTION }), context({ destinationRule: user }));
  assert.ok(result.warnings.includes("subset stable has its own outlierDetection, which overrides meshloop's for its traffic"));
});

test("subsets meshloop's routes still use survive a change of weights; unused ones go", () => {
  const ownedRule: IDestinationRule = {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED },
    spec: { host: HOST, subsets: [{ name: "v0", labels: { version: "v0" } }, { name: "v1", labels: { version: "v1" } }] },
  };
  const routesToV0: IVirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED },
    spec: { hosts: [HOST], http: [{ name: "meshloop", route: [{ destination: { host: HOST, subset: "v0" }, weight: 100 }] }] },
  };
  const result = translateIstio(state({ weights: { v2: 100 } }), context({ destinationRule: ownedRule, virtualService: routesToV0 }));
  assert.deepEqual(destinationRule(result).spec?.subsets?.map((s) => s.name), ["v2", "v0"]);
});

test("a DestinationRule Flagger manages is refused, and routes do not name subsets that were never written", () => {
  const user = userDestinationRule();
  user.metadata!.ownerReferences = [{ apiVersion: "flagger.app/v1beta1", kind: "Canary", name: "checkout", uid: "u1", controller: true }];
  const result = translateIstio(state({ weights: { v1: 90, v2: 10 }, requestTimeoutMs: 1000 }), context({ destinationRule: user }));
  assert.equal(result.refused.length, 1);
  assert.deepEqual(result.refused[0]!.capabilities, ["weights"]);
  assert.match(result.refused[0]!.reason, /Flagger \(ownerReference Canary checkout/);
  const vs = result.resources.find((w) => w.action === "apply" && w.object.kind === "VirtualService");
  assert.deepEqual(specOf(vs), { hosts: [HOST], http: [{ name: "meshloop", route: [{ destination: { host: HOST } }], timeout: "1s" }] });
});
