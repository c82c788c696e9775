import assert from "node:assert/strict";
import { test } from "node:test";
import { translateConsul } from "../src/index.ts";
import type { ServiceRouter } from "../src/index.ts";
import { context, OWNED_META, state, written } from "./fixtures.ts";

const RETRIES = { attempts: 3, perTryTimeoutMs: null, retryOn: ["5xx" as const, "connect-failure" as const, "retriable-status-codes" as const], retriableStatusCodes: [503, 429], budget: null };

function userRouter(): ServiceRouter {
  return {
    Kind: "service-router",
    Name: "checkout",
    Routes: [
      { Match: { HTTP: { PathPrefix: "/admin" } }, Destination: { Service: "checkout-admin", RequestTimeout: "30s" } },
      { Match: { HTTP: { Header: [{ Name: "x-canary", Exact: "1" }] } }, Destination: { ServiceSubset: "v2" } },
    ],
    ModifyIndex: 77,
  };
}

test("retries and the request timeout go on a catch-all route's destination", () => {
  const result = translateConsul(state({ retries: RETRIES, requestTimeoutMs: 2000 }), context());
  assert.deepEqual(result.resources, [
    {
      action: "write",
      cas: 0,
      entry: {
        Kind: "service-router",
        Name: "checkout",
        Meta: OWNED_META,
        Routes: [
          {
            Match: { HTTP: { PathPrefix: "/" } },
            Destination: { NumRetries: 3, RetryOn: ["5xx", "connect-failure"], RetryOnStatusCodes: [429, 503], RequestTimeout: "2s" },
          },
        ],
      },
    },
  ]);
});

test("in a user's router the catch-all is appended after the user's routes, which survive unchanged", () => {
  const result = translateConsul(state({ requestTimeoutMs: 1500 }), context({ router: userRouter() }));
  const { entry, cas } = written(result.resources, "service-router");
  assert.equal(cas, 77);
  assert.deepEqual((entry as ServiceRouter).Routes, [...userRouter().Routes!, { Match: { HTTP: { PathPrefix: "/" } }, Destination: { RequestTimeout: "1500ms" } }]);
});

test("the user's own catch-all route is the one changed, its other destination fields kept", () => {
  const user = userRouter();
  user.Routes!.push({ Destination: { RequestTimeout: "9s", NumRetries: 1, RetryOnConnectFailure: true, PrefixRewrite: "/v1" } as never });
  const result = translateConsul(state({ retries: { ...RETRIES, retryOn: ["gateway-error"], retriableStatusCodes: [] } }), context({ router: user }));
  const routes = (written(result.resources, "service-router").entry as ServiceRouter).Routes!;
  assert.equal(routes.length, 3);
  assert.deepEqual(routes[2], { Destination: { RequestTimeout: "9s", PrefixRewrite: "/v1", NumRetries: 3, RetryOn: ["gateway-error"] } });
});

test("zero attempts clear meshloop's retry fields, leaving no retry policy", () => {
  const user = userRouter();
  user.Routes!.push({ Match: { HTTP: { PathPrefix: "/" } }, Destination: { NumRetries: 2, RetryOn: ["5xx"] } });
  const result = translateConsul(state({ retries: { attempts: 0, perTryTimeoutMs: null, retryOn: ["5xx"], retriableStatusCodes: [], budget: null } }), context({ router: user }));
  assert.deepEqual((written(result.resources, "service-router").entry as ServiceRouter).Routes![2], { Match: { HTTP: { PathPrefix: "/" } }, Destination: {} });
});

test("Consul has no per-try timeout: said in the warnings, the retries still written", () => {
  const result = translateConsul(state({ retries: { ...RETRIES, perTryTimeoutMs: 250 } }), context());
  assert.ok(result.warnings.includes("Consul's router has no per-try timeout; each try may use the whole request timeout"));
  assert.equal(result.resources.length, 1);
});

test("a catch-all route to a subset bypasses the splitter: not rerouted, the parts fail with the reason", () => {
  const user = userRouter();
  user.Routes!.push({ Match: { HTTP: { PathPrefix: "/" } }, Destination: { ServiceSubset: "v1" } });
  const result = translateConsul(state({ requestTimeoutMs: 1000 }), context({ router: user }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.failed, [
    { capabilities: ["requestTimeout"], reason: "service-router checkout: its catch-all route Routes[2] sends traffic to checkout subset v1, past the splitter; meshloop will not reroute it" },
  ]);
});

test("meshloop's router goes when neither retries nor a timeout are managed", () => {
  const owned: ServiceRouter = { Kind: "service-router", Name: "checkout", Meta: OWNED_META, Routes: [], ModifyIndex: 5 };
  assert.deepEqual(translateConsul(state(), context({ router: owned })).resources, [{ action: "delete", ref: { kind: "service-router", name: "checkout" }, cas: 5 }]);
  assert.deepEqual(translateConsul(state(), context({ router: userRouter() })).resources, []);
});
