// Reversibility in the pure translation: what meshloop merges into a user's VirtualService or DestinationRule is
// recorded as found, and a release (an empty desired state) puts it back.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { ORIGINAL_ANNOTATION, translateIstio } from "../src/index.ts";
import type { KubeObject, KubeWrite, Translation } from "../src/index.ts";
import { context, MANAGED, originals, state } from "./fixtures.ts";

const HOST = "checkout.shop.svc.cluster.local";
const RETRIES = { attempts: 3, perTryTimeoutMs: 250, retryOn: ["5xx" as const], retriableStatusCodes: [], budget: null };
const LIMITS = { maxConnections: 50, maxPendingRequests: 5, maxRequests: 80, maxRetries: 2 };

function userVirtualService(): IVirtualService {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "checkout", namespace: "shop", resourceVersion: "4711", annotations: { "team.example/owner": "payments" } },
    spec: {
      hosts: ["checkout"],
      http: [
        { name: "admin", match: [{ uri: { prefix: "/admin" } }], route: [{ destination: { host: "checkout" } }], timeout: "30s" },
        { name: "main", route: [{ destination: { host: "checkout", port: { number: 8080 } } }], retries: { attempts: 1 }, headers: { request: { set: { "x-team": "payments" } } } },
      ],
    },
  };
}

function userDestinationRule(): IDestinationRule {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "checkout", namespace: "shop", resourceVersion: "99" },
    spec: { host: "checkout", subsets: [{ name: "stable", labels: { track: "stable" } }], trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } },
  };
}

function written<T extends KubeObject>(result: Translation, kind: string): T {
  const write = result.resources.find((w): w is Extract<KubeWrite, { action: "update" }> => w.action === "update" && w.object.kind === kind);
  assert.ok(write !== undefined, `an update of a ${kind} in ${JSON.stringify(result)}`);
  return write.object as T;
}

test("a user's VirtualService merged into and released is the original again, byte for byte, its record gone", () => {
  const merged = written<IVirtualService>(translateIstio(state({ weights: { v1: 80, v2: 20 }, retries: RETRIES, requestTimeoutMs: 1500 }), context({ virtualService: userVirtualService() })), "VirtualService");
  assert.deepEqual(Object.keys(originals(merged)), ["spec.http[catch-all].retries", "spec.http[catch-all].route", "spec.http[catch-all].timeout"]);
  const released = translateIstio(state(), context({ virtualService: merged }));
  assert.deepEqual(released.resources.map((w) => w.action), ["update"]);
  const restored = written<IVirtualService>(released, "VirtualService");
  assert.deepEqual(restored, userVirtualService());
  assert.equal(restored.metadata?.annotations?.[ORIGINAL_ANNOTATION], undefined);
  assert.deepEqual(released.warnings, []);
  // Released already: nothing left to undo, nothing written.
  assert.deepEqual(translateIstio(state(), context({ virtualService: restored })).resources, []);
});

test("the route meshloop appended to a user's VirtualService is removed on release", () => {
  const user = userVirtualService();
  user.spec!.http = user.spec!.http!.slice(0, 1);
  const original = structuredClone(user);
  const merged = written<IVirtualService>(translateIstio(state({ requestTimeoutMs: 800 }), context({ virtualService: user })), "VirtualService");
  assert.deepEqual(merged.spec?.http?.map((r) => r.name), ["admin", "meshloop"]);
  assert.deepEqual(originals(merged), { "spec.http[meshloop]": {} });
  // Later merges keep the record of an added route whole, not field by field.
  const again = written<IVirtualService>(translateIstio(state({ weights: { v1: 50, v2: 50 }, requestTimeoutMs: 900 }), context({ virtualService: merged })), "VirtualService");
  assert.deepEqual(originals(again), { "spec.http[meshloop]": {} });
  assert.deepEqual(written(translateIstio(state(), context({ virtualService: again })), "VirtualService"), original);
});

test("a second merge does not overwrite the record: the release goes back to what was there before the first", () => {
  const first = written<IVirtualService>(translateIstio(state({ weights: { v1: 80, v2: 20 } }), context({ virtualService: userVirtualService() })), "VirtualService");
  const firstRecord = originals(first);
  const second = written<IVirtualService>(translateIstio(state({ weights: { v1: 50, v2: 50 }, requestTimeoutMs: 2000 }), context({ virtualService: first })), "VirtualService");
  const secondRecord = originals(second);
  assert.deepEqual(secondRecord["spec.http[catch-all].route"], firstRecord["spec.http[catch-all].route"], "the route's original is still the user's");
  assert.deepEqual(secondRecord["spec.http[catch-all].route"], { original: [{ destination: { host: "checkout", port: { number: 8080 } } }] });
  assert.deepEqual(secondRecord["spec.http[catch-all].timeout"], {}, "the timeout, changed for the first time, is added as absent");
  assert.notEqual(first.metadata?.annotations?.[ORIGINAL_ANNOTATION], second.metadata?.annotations?.[ORIGINAL_ANNOTATION], "the digest of what meshloop wrote moved");
  assert.deepEqual(written(translateIstio(state(), context({ virtualService: second })), "VirtualService"), userVirtualService());
});

test("a field the user changed since meshloop wrote it stays theirs on release; the rest is restored and the warning says so", () => {
  const merged = written<IVirtualService>(translateIstio(state({ weights: { v1: 80, v2: 20 }, requestTimeoutMs: 1500 }), context({ virtualService: userVirtualService() })), "VirtualService");
  merged.spec!.http![1]!.timeout = "7s";
  const released = translateIstio(state(), context({ virtualService: merged }));
  const restored = written<IVirtualService>(released, "VirtualService");
  const expected = userVirtualService();
  expected.spec!.http![1]!.timeout = "7s";
  assert.deepEqual(restored, expected, "route restored, the user's timeout kept, the record removed");
  assert.deepEqual(released.warnings, [
    "VirtualService shop/checkout: spec.http[catch-all].timeout changed since meshloop wrote it; kept as changed rather than restored to the original, and the record is removed",
  ]);
});

test("an unreadable record: merging fails with the reason, a release drops it and restores nothing", () => {
  const user = userVirtualService();
  user.metadata!.annotations![ORIGINAL_ANNOTATION] = "edited by hand";
  const merge = translateIstio(state({ requestTimeoutMs: 800 }), context({ virtualService: user }));
  assert.deepEqual(merge.resources, []);
  assert.match(merge.failed[0]!.reason, /VirtualService shop\/checkout: annotation meshloop\.io\/original: meshloop's record of the original is not JSON/);
  const released = translateIstio(state(), context({ virtualService: user }));
  assert.deepEqual(written(released, "VirtualService"), userVirtualService());
  assert.match(released.warnings[0]!, /not JSON; nothing restored, and the record is removed/);
});

test("a released object another controller now manages is refused, not written", () => {
  const merged = written<IVirtualService>(translateIstio(state({ requestTimeoutMs: 800 }), context({ virtualService: userVirtualService() })), "VirtualService");
  merged.metadata!.annotations!["argocd.argoproj.io/tracking-id"] = "shop:networking.istio.io/VirtualService:shop/checkout";
  const released = translateIstio(state(), context({ virtualService: merged }));
  assert.deepEqual(released.resources, []);
  assert.deepEqual(released.refused.map((r) => [r.ref.name, r.capabilities]), [["checkout", []]]);
  assert.match(released.refused[0]!.reason, /^meshloop's changes to it are not undone: managed by Argo CD/);
});

test("a user's DestinationRule is restored after the routes, subsets and policy as found", () => {
  const desired = state({ weights: { v1: 90, v2: 10 }, connectionLimits: LIMITS });
  const applied = translateIstio(desired, context({ virtualService: userVirtualService(), destinationRule: userDestinationRule() }));
  assert.deepEqual(applied.resources.map((w) => w.action === "update" && w.object.kind), ["DestinationRule", "VirtualService"], "subsets before the routes that name them");
  const rule = written<IDestinationRule>(applied, "DestinationRule");
  assert.deepEqual(originals(rule), { "spec.subsets[v1]": {}, "spec.subsets[v2]": {}, "spec.trafficPolicy.connectionPool": {} });
  const released = translateIstio(state(), context({ virtualService: written(applied, "VirtualService"), destinationRule: rule }));
  assert.deepEqual(released.resources.map((w) => w.action === "update" && w.object.kind), ["VirtualService", "DestinationRule"], "routes leave the subsets before they go");
  assert.deepEqual(written(released, "DestinationRule"), userDestinationRule());
  assert.deepEqual(written(released, "VirtualService"), userVirtualService());
});

test("a subset meshloop added that the user's routes now use stays on release, with the reason", () => {
  const applied = translateIstio(state({ weights: { v1: 90, v2: 10 } }), context({ virtualService: userVirtualService(), destinationRule: userDestinationRule() }));
  const routes = written<IVirtualService>(applied, "VirtualService");
  // The user took the route over, pinning v2: it is theirs now and keeps naming the subset.
  routes.spec!.http![1]!.route = [{ destination: { host: "checkout", subset: "v2" } }];
  const released = translateIstio(state(), context({ virtualService: routes, destinationRule: written(applied, "DestinationRule") }));
  const rule = written<IDestinationRule>(released, "DestinationRule");
  assert.deepEqual(rule.spec?.subsets?.map((s) => s.name), ["stable", "v2"], "v1 goes, v2 stays");
  assert.equal(rule.metadata?.annotations, undefined);
  assert.ok(released.warnings.includes("DestinationRule shop/checkout: subset v2 is still routed to, so it stays"), JSON.stringify(released.warnings));
});

test("meshloop's own VirtualService and DestinationRule both go on release, the routes first", () => {
  const applied = translateIstio(state({ weights: { v1: 90, v2: 10 } }), context());
  const objects = applied.resources.flatMap((w) => (w.action === "apply" ? [w.object] : []));
  const [rule, routes] = [objects.find((o) => o.kind === "DestinationRule"), objects.find((o) => o.kind === "VirtualService")];
  assert.deepEqual(rule?.metadata?.labels, MANAGED);
  const released = translateIstio(state(), context({ virtualService: routes as IVirtualService, destinationRule: rule as IDestinationRule }));
  assert.deepEqual(released.resources, [
    { action: "delete", ref: { apiVersion: "networking.istio.io/v1", kind: "VirtualService", namespace: "shop", name: "checkout-meshloop" } },
    { action: "delete", ref: { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", namespace: "shop", name: "checkout-meshloop" } },
  ]);
  assert.equal(HOST, (routes as IVirtualService).spec?.hosts?.[0]);
});
