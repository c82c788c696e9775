import assert from "node:assert/strict";
import { test } from "node:test";
import { ValidationError } from "@meshloop/errors";
import {
  callerIdentity,
  parseTargetKey,
  resolutionConfigSchema,
  resolveTarget,
  subsetFor,
  targetKey,
} from "../src/index.ts";

test("target keys round-trip", () => {
  const ref = { mesh: "linkerd", namespace: "shop", service: "cart" } as const;
  assert.equal(targetKey(ref), "linkerd/shop/cart");
  assert.deepEqual(parseTargetKey("linkerd/shop/cart"), ref);
});

test("malformed target keys are rejected with the reason", () => {
  const rejects = (key: string, message: RegExp) =>
    assert.throws(() => parseTargetKey(key), (e: unknown) => e instanceof ValidationError && message.test(e.message));
  rejects("istio/shop", /target key "istio\/shop" must have the form mesh\/namespace\/service/);
  rejects("istio/shop/cart/x", /must have the form/);
  rejects("kuma/shop/cart", /mesh "kuma" is not one of istio, linkerd, consul, lab/);
  rejects("istio//cart", /namespace "" must be lowercase/);
  rejects("istio/shop/Cart", /service "Cart" must be lowercase/);
});

test("resolution uses k8s.namespace.name, the default namespace and overrides", () => {
  const config = resolutionConfigSchema.parse({
    mesh: "istio",
    defaultNamespace: "apps",
    serviceOverrides: { CartService: "cart" },
  });
  assert.deepEqual(resolveTarget({ "service.name": "checkout", "k8s.namespace.name": "shop" }, config), {
    ok: true,
    target: { mesh: "istio", namespace: "shop", service: "checkout" },
  });
  assert.deepEqual(resolveTarget({ "service.name": "CartService" }, config), {
    ok: true,
    target: { mesh: "istio", namespace: "apps", service: "cart" },
  });
  assert.deepEqual(resolveTarget({}, config), { ok: false, reason: "no service.name" });
  const bad = resolveTarget({ "service.name": "unknown_service:node" }, config);
  assert.equal(bad.ok, false);
  const reason = bad.ok ? "" : bad.reason;
  assert.match(reason, /service of service\.name "unknown_service:node" must be lowercase.*serviceOverrides/);
});

test("the resolution config has defaults and checks its templates", () => {
  const config = resolutionConfigSchema.parse({ mesh: "consul" });
  assert.equal(config.defaultNamespace, "default");
  assert.equal(config.subsetTemplate, "{version}");
  assert.equal(config.trustDomain, "cluster.local");
  const noVersion = resolutionConfigSchema.safeParse({ mesh: "istio", subsetTemplate: "{service}" });
  assert.match(noVersion.error?.issues[0]?.message ?? "", /must contain \{version\}/);
  const unknown = resolutionConfigSchema.safeParse({ mesh: "istio", identityTemplate: "spiffe://{domain}/x" });
  assert.match(unknown.error?.issues[0]?.message ?? "", /unknown placeholder \{domain\}/);
});

test("subset names are DNS labels made from the template", () => {
  assert.equal(subsetFor("v2", "reviews", { subsetTemplate: "{version}" }), "v2");
  assert.equal(subsetFor("1.2.3", "reviews", { subsetTemplate: "{service}-{version}" }), "reviews-1-2-3");
  assert.equal(subsetFor("V3_beta", "reviews", { subsetTemplate: "{version}" }), "v3-beta");
  assert.equal(subsetFor("x".repeat(80), "r", { subsetTemplate: "{version}" }).length, 63);
  assert.throws(() => subsetFor("...", "r", { subsetTemplate: "{version}" }), /gives no usable subset name/);
});

test("caller identities follow the template, the service account defaulting to the service", () => {
  const config = resolutionConfigSchema.parse({ mesh: "istio" });
  const crawler = { service: "crawler", namespace: "web" };
  assert.equal(callerIdentity(crawler, config), "spiffe://cluster.local/ns/web/sa/crawler");
  const other = { ...config, trustDomain: "prod.example" };
  assert.equal(callerIdentity({ ...crawler, serviceAccount: "bot" }, other), "spiffe://prod.example/ns/web/sa/bot");
});
