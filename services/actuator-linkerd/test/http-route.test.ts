import assert from "node:assert/strict";
import { test } from "node:test";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { ORIGINAL_ANNOTATION } from "@meshloop/actuator-kit";
import { translateLinkerd } from "../src/index.ts";
import { context, MANAGED, objectOf, state } from "./fixtures.ts";

const OWNED_REF = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", namespace: "shop", name: "checkout-meshloop" };

function userRoute(): IHTTPRoute {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "checkout-routes", namespace: "shop", resourceVersion: "31" },
    spec: {
      parentRefs: [{ group: "core", kind: "Service", name: "checkout", port: 8080 }],
      rules: [
        { matches: [{ headers: [{ name: "x-canary", value: "1" }] }], backendRefs: [{ name: "checkout-v2", port: 8080 }] },
        {
          matches: [{ path: { type: "PathPrefix", value: "/" } }],
          filters: [{ type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x-team", value: "payments" }] } }],
          backendRefs: [{ name: "checkout", port: 8080 }],
        },
      ],
    },
  };
}

test("weights become an HTTPRoute on the Service (group core, kind Service) with weighted backend Services", () => {
  const result = translateLinkerd(state({ weights: { v2: 10, v1: 90 } }), context());
  assert.equal(result.resources.length, 1);
  const route = objectOf(result.resources[0]);
  assert.deepEqual(route, {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED },
    spec: {
      parentRefs: [{ group: "core", kind: "Service", name: "checkout", port: 8080 }],
      rules: [
        {
          backendRefs: [
            { name: "checkout-v1", port: 8080, weight: 90 },
            { name: "checkout-v2", port: 8080, weight: 10 },
          ],
        },
      ],
    },
  });
  assert.doesNotThrow(() => new HTTPRoute(route).validate());
  assert.equal(result.resources[0]!.action, "apply");
});

test("in a user's route only the catch-all rule's backends change; the user's other rule and filters survive", () => {
  const user = userRoute();
  const result = translateLinkerd(state({ weights: { v1: 75, v2: 25 } }), context({ httpRoutes: [user] }));
  assert.deepEqual(result.resources.map((w) => w.action), ["update"]);
  const expected = userRoute();
  expected.spec.rules![1]!.backendRefs = [
    { name: "checkout-v1", port: 8080, weight: 75 },
    { name: "checkout-v2", port: 8080, weight: 25 },
  ];
  const written = objectOf(result.resources[0]) as IHTTPRoute;
  const record = written.metadata?.annotations?.[ORIGINAL_ANNOTATION] ?? "";
  const fields = (JSON.parse(record) as { fields: Record<string, { original?: unknown }> }).fields;
  assert.deepEqual(fields["spec.rules[catch-all].backendRefs"]?.original, [{ name: "checkout", port: 8080 }], "the backends found are recorded for a release");
  expected.metadata!.annotations = { [ORIGINAL_ANNOTATION]: record };
  assert.deepEqual(written, expected);
  assert.deepEqual(user, userRoute(), "the object read from the cluster is not mutated");
  assert.doesNotThrow(() => new HTTPRoute(expected).validate());
});

test("a user's route without a catch-all rule stays untouched and meshloop adds its own", () => {
  const user = userRoute();
  user.spec.rules = user.spec.rules!.slice(0, 1);
  const result = translateLinkerd(state({ weights: { v1: 50, v2: 50 } }), context({ httpRoutes: [user] }));
  assert.deepEqual(result.resources.map((w) => [w.action, (objectOf(w) as IHTTPRoute).metadata?.name]), [["apply", "checkout-meshloop"]]);
});

test("once a user's catch-all rule carries the weights, meshloop's own route is deleted", () => {
  const owned: IHTTPRoute = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED }, spec: {} };
  const result = translateLinkerd(state({ weights: { v1: 50, v2: 50 } }), context({ httpRoutes: [owned, userRoute()] }));
  assert.deepEqual(result.resources.map((w) => w.action), ["update", "delete"]);
  assert.deepEqual(result.resources[1], { action: "delete", ref: OWNED_REF });
});

test("a version whose backend Service does not exist fails the weights rather than failing its share of requests", () => {
  const result = translateLinkerd(state({ weights: { v1: 90, v3: 10 } }), context());
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.failed, [{ capabilities: ["weights"], reason: "backend Service checkout-v3 does not exist in shop" }]);
  const zero = translateLinkerd(state({ weights: { v1: 100, v3: 0 } }), context());
  assert.deepEqual((objectOf(zero.resources[0]) as IHTTPRoute).spec.rules![0]!.backendRefs, [{ name: "checkout-v1", port: 8080, weight: 100 }]);
});

test("a catch-all rule that sends traffic to another namespace is not rerouted", () => {
  const user = userRoute();
  user.spec.rules![1]!.backendRefs = [{ name: "checkout", namespace: "legacy", port: 8080 }];
  const result = translateLinkerd(state({ weights: { v1: 50, v2: 50 } }), context({ httpRoutes: [user] }));
  assert.deepEqual(result.resources, []);
  assert.match(result.failed[0]!.reason, /sends traffic to Service legacy\/checkout; meshloop will not reroute it/);
});

test("a route Flux manages is refused", () => {
  const user = userRoute();
  user.metadata!.labels = { "kustomize.toolkit.fluxcd.io/name": "apps" };
  const result = translateLinkerd(state({ weights: { v1: 50, v2: 50 } }), context({ httpRoutes: [user] }));
  assert.deepEqual(result.resources, []);
  assert.equal(result.refused[0]?.reason.startsWith("managed by Flux (label kustomize.toolkit.fluxcd.io/name=apps)"), true);
});

test("a route that breaks the Gateway API schema is reported as failed, never queued", () => {
  const ports = { "checkout-v1": [{ port: 70_000 }], "checkout-v2": [{ port: 70_000 }] };
  const result = translateLinkerd(state({ weights: { v1: 50, v2: 50 } }), context({ port: 70_000, backendPorts: ports }));
  assert.deepEqual(result.resources, []);
  assert.match(result.failed[0]!.reason, /does not pass the Gateway API schema: .*port/);
});

test("weights no longer managed remove meshloop's route and leave the user's alone", () => {
  const owned: IHTTPRoute = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED }, spec: {} };
  assert.deepEqual(translateLinkerd(state(), context({ httpRoutes: [owned, userRoute()] })).resources, [{ action: "delete", ref: OWNED_REF }]);
});
