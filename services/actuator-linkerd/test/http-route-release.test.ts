// Reversibility of the weights merged into a user's HTTPRoute: recorded as found, put back on release.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { ORIGINAL_ANNOTATION } from "@meshloop/actuator-kit";
import { translateLinkerd } from "../src/index.ts";
import type { Translation } from "../src/index.ts";
import { context, MANAGED, state } from "./fixtures.ts";

function userRoute(): IHTTPRoute {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "checkout-routes", namespace: "shop", resourceVersion: "31", annotations: { "team.example/owner": "payments" } },
    spec: {
      parentRefs: [{ group: "core", kind: "Service", name: "checkout", port: 8080 }],
      rules: [
        { matches: [{ headers: [{ name: "x-canary", value: "1" }] }], backendRefs: [{ name: "checkout-v2", port: 8080 }] },
        { matches: [{ path: { type: "PathPrefix", value: "/" } }], timeouts: { request: "5s" }, backendRefs: [{ name: "checkout", port: 8080 }] },
      ],
    },
  };
}

function updated(result: Translation): IHTTPRoute {
  const write = result.resources.find((w) => w.action === "update");
  assert.ok(write !== undefined && write.action === "update", `an update in ${JSON.stringify(result.resources)}`);
  return write.object as IHTTPRoute;
}

function originals(route: IHTTPRoute): Record<string, unknown> {
  const fields = (JSON.parse(route.metadata?.annotations?.[ORIGINAL_ANNOTATION] ?? "null") as { fields: Record<string, { original?: unknown }> }).fields;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.original]));
}

test("a user's route merged into, merged again and released is the original again, its record gone", () => {
  const first = updated(translateLinkerd(state({ weights: { v1: 90, v2: 10 } }), context({ httpRoutes: [userRoute()] })));
  assert.deepEqual(originals(first), { "spec.rules[catch-all].backendRefs": [{ name: "checkout", port: 8080 }] });
  const second = updated(translateLinkerd(state({ weights: { v1: 50, v2: 50 } }), context({ httpRoutes: [first] })));
  assert.deepEqual(second.spec.rules![1]!.backendRefs?.map((b) => b.weight), [50, 50]);
  assert.deepEqual(originals(second), originals(first), "the second merge keeps the first record's original");
  const released = translateLinkerd(state(), context({ httpRoutes: [second] }));
  assert.deepEqual(released.resources.map((w) => w.action), ["update"]);
  const restored = updated(released);
  assert.deepEqual(restored, userRoute());
  assert.equal(restored.metadata?.annotations?.[ORIGINAL_ANNOTATION], undefined);
  assert.deepEqual(released.warnings, []);
  // Nothing left to undo the next time.
  assert.deepEqual(translateLinkerd(state(), context({ httpRoutes: [restored] })).resources, []);
});

test("backends the user changed since meshloop wrote them stay on release; the record goes and the warning says so", () => {
  const merged = updated(translateLinkerd(state({ weights: { v1: 90, v2: 10 } }), context({ httpRoutes: [userRoute()] })));
  merged.spec.rules![1]!.backendRefs = [{ name: "checkout-v1", port: 8080, weight: 100 }];
  const released = translateLinkerd(state(), context({ httpRoutes: [merged] }));
  const kept = updated(released);
  const expected = userRoute();
  expected.spec.rules![1]!.backendRefs = [{ name: "checkout-v1", port: 8080, weight: 100 }];
  assert.deepEqual(kept, expected);
  assert.deepEqual(released.warnings, [
    "HTTPRoute shop/checkout-routes: spec.rules[catch-all].backendRefs changed since meshloop wrote it; kept as changed rather than restored to the original, and the record is removed",
  ]);
});

test("on release meshloop's own route is deleted and a user's route goes back, both in one translation", () => {
  const merged = updated(translateLinkerd(state({ weights: { v1: 90, v2: 10 } }), context({ httpRoutes: [userRoute()] })));
  const owned: IHTTPRoute = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED }, spec: {} };
  const released = translateLinkerd(state(), context({ httpRoutes: [owned, merged] }));
  assert.deepEqual(released.resources.map((w) => w.action), ["delete", "update"]);
  assert.deepEqual(updated(released), userRoute());
});

test("an unreadable record stops the merge with the reason; a route Flux now manages is refused on release, not written", () => {
  const tampered = userRoute();
  tampered.metadata!.annotations![ORIGINAL_ANNOTATION] = "[]";
  const merge = translateLinkerd(state({ weights: { v1: 90, v2: 10 } }), context({ httpRoutes: [tampered] }));
  assert.deepEqual(merge.resources, []);
  assert.match(merge.failed[0]!.reason, /HTTPRoute shop\/checkout-routes, annotation meshloop\.io\/original: meshloop's record of the original is not a version 1 record/);

  const merged = updated(translateLinkerd(state({ weights: { v1: 90, v2: 10 } }), context({ httpRoutes: [userRoute()] })));
  merged.metadata!.labels = { "kustomize.toolkit.fluxcd.io/name": "shop" };
  const released = translateLinkerd(state(), context({ httpRoutes: [merged] }));
  assert.deepEqual(released.resources, []);
  assert.match(released.refused[0]!.reason, /^meshloop's changes to it are not undone: managed by Flux/);
});
