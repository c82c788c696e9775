import assert from "node:assert/strict";
import { test } from "node:test";
import { EnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import { tokenBucket, translateIstio } from "../src/index.ts";
import { context, MANAGED, state } from "./fixtures.ts";

test("a rate limit becomes a local rate limit filter in the target's sidecars, the rate split over endpoints", () => {
  const result = translateIstio(state({ rateLimit: { requestsPerSecond: 100 } }), context({ endpoints: 4 }));
  assert.equal(result.resources.length, 1);
  const write = result.resources[0]!;
  assert.ok(write.action === "apply");
  assert.deepEqual(write.object, {
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: { name: "checkout-meshloop-ratelimit", namespace: "shop", labels: MANAGED },
    spec: {
      workloadSelector: { labels: { app: "checkout" } },
      configPatches: [
        {
          applyTo: "HTTP_FILTER",
          match: { context: "SIDECAR_INBOUND", listener: { filterChain: { filter: { name: "envoy.filters.network.http_connection_manager" } } } },
          patch: {
            operation: "INSERT_BEFORE",
            value: {
              name: "envoy.filters.http.local_ratelimit",
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                stat_prefix: "http_local_rate_limiter",
                token_bucket: { max_tokens: 25, tokens_per_fill: 25, fill_interval: "1s" },
                filter_enabled: { runtime_key: "local_rate_limit_enabled", default_value: { numerator: 100, denominator: "HUNDRED" } },
                filter_enforced: { runtime_key: "local_rate_limit_enforced", default_value: { numerator: 100, denominator: "HUNDRED" } },
              },
            },
          },
        },
      ],
    },
  });
  assert.doesNotThrow(() => new EnvoyFilter(write.object as IEnvoyFilter).validate());
  assert.deepEqual(result.warnings, []);
});

test("rates below one request per second per sidecar become one token per longer interval", () => {
  assert.deepEqual(tokenBucket(0.25), { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 4000 });
  assert.deepEqual(tokenBucket(12.4), { maxTokens: 12, tokensPerFill: 12, fillIntervalMs: 1000 });
});

test("rounding to whole tokens that changes the service's rate is said in the warnings", () => {
  const result = translateIstio(state({ rateLimit: { requestsPerSecond: 10 } }), context({ endpoints: 3 }));
  assert.ok(result.warnings.includes("whole tokens per sidecar give 9 requests/s in all, not 10"), result.warnings.join("; "));
});

test("lifting the rate limit removes meshloop's filter", () => {
  const owned: IEnvoyFilter = { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name: "checkout-meshloop-ratelimit", namespace: "shop", labels: MANAGED }, spec: {} };
  assert.deepEqual(translateIstio(state(), context({ envoyFilter: owned })).resources.map((w) => w.action), ["delete"]);
});
