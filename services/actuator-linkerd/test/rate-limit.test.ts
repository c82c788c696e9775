import assert from "node:assert/strict";
import { test } from "node:test";
import { proxyRate, translateLinkerd } from "../src/index.ts";
import type { HTTPLocalRateLimitPolicy, LinkerdServer } from "../src/index.ts";
import { context, MANAGED, state } from "./fixtures.ts";

const SERVER: LinkerdServer = { apiVersion: "policy.linkerd.io/v1beta3", kind: "Server", metadata: { name: "checkout-http", namespace: "shop" }, spec: { port: 8080, podSelector: { matchLabels: { app: "checkout" } } } };

test("a rate limit becomes an HTTPLocalRateLimitPolicy on the Server, the rate split over the proxies", () => {
  const result = translateLinkerd(state({ rateLimit: { requestsPerSecond: 100 } }), context({ server: SERVER, endpoints: 4 }));
  assert.deepEqual(result.resources, [
    {
      action: "apply",
      object: {
        apiVersion: "policy.linkerd.io/v1alpha1",
        kind: "HTTPLocalRateLimitPolicy",
        metadata: { name: "checkout-meshloop-ratelimit", namespace: "shop", labels: MANAGED },
        spec: { targetRef: { group: "policy.linkerd.io", kind: "Server", name: "checkout-http" }, total: { requestsPerSecond: 25 } },
      },
    },
  ]);
  assert.deepEqual(result.warnings, []);
});

test("whole requests per proxy: at least one, and a changed service-wide rate is said", () => {
  assert.deepEqual(proxyRate(10, 3), { requestsPerSecond: 3, effective: 9 });
  assert.deepEqual(proxyRate(0.5, 4), { requestsPerSecond: 1, effective: 4 });
  const result = translateLinkerd(state({ rateLimit: { requestsPerSecond: 10 } }), context({ server: SERVER, endpoints: 3 }));
  assert.deepEqual(result.warnings, ["whole requests per proxy give 9 requests/s in all, not 10"]);
});

test("without a Server a rate limit is unsupported; a user's policy on the Server is refused; lifting deletes meshloop's", () => {
  const none = translateLinkerd(state({ rateLimit: { requestsPerSecond: 10 } }), context());
  assert.equal(none.unsupported[0]?.capability, "rateLimit");
  assert.deepEqual(none.resources, []);
  const theirs: HTTPLocalRateLimitPolicy = { apiVersion: "policy.linkerd.io/v1alpha1", kind: "HTTPLocalRateLimitPolicy", metadata: { name: "limits", namespace: "shop" } };
  assert.equal(translateLinkerd(state({ rateLimit: { requestsPerSecond: 10 } }), context({ server: SERVER, rateLimitPolicy: theirs })).refused.length, 1);
  const ours = { ...theirs, metadata: { name: "checkout-meshloop-ratelimit", namespace: "shop", labels: MANAGED } };
  assert.deepEqual(translateLinkerd(state(), context({ server: SERVER, rateLimitPolicy: ours })).resources.map((w) => w.action), ["delete"]);
});
