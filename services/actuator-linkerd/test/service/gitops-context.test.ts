// GitOps output translates without reading the cluster: what it assumes, and what it then writes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderGitops } from "@meshloop/actuator-kit";
import { translateLinkerd } from "../../src/translate/translate.ts";
import { gitopsContext } from "../../src/service/index.ts";
import { desired, RETRIES } from "../cluster.ts";

const target = { mesh: "linkerd" as const, namespace: "shop", service: "checkout" };
const NOW = Date.parse("2025-05-01T12:00:00Z");

test("with the configured port, weights become meshloop's HTTPRoute over the versions' Services, and retries a patch of the Service", () => {
  const state = desired(target, { weights: { v1: 95, v2: 5 }, retries: RETRIES });
  const translation = translateLinkerd(state, gitopsContext(state, NOW, 8080));
  assert.deepEqual(translation.failed, []);
  const paths = renderGitops(translation.resources).files.map((f) => f.path).sort();
  assert.equal(paths.length, 2, paths.join(", "));
  assert.ok(paths.some((p) => p.includes("checkout-meshloop")), paths.join(", "));
  assert.ok(paths.some((p) => p.includes("checkout.patch")), paths.join(", "));
  const route = translation.resources.find((w) => w.action === "apply" && w.object.kind === "HTTPRoute");
  assert.ok(route?.action === "apply");
  assert.deepEqual((route.object as unknown as { spec: { rules: { backendRefs: { name: string; port: number; weight: number }[] }[] } }).spec.rules[0]!.backendRefs, [
    { name: "checkout-v1", port: 8080, weight: 95 },
    { name: "checkout-v2", port: 8080, weight: 5 },
  ]);
});

test("without a configured port, weights fail rather than guess one, naming the variable to set", () => {
  const state = desired(target, { weights: { v1: 95, v2: 5 }, requestTimeoutMs: 1500 });
  const translation = translateLinkerd(state, gitopsContext(state, NOW, undefined));
  assert.deepEqual(translation.failed.map((f) => f.capabilities), [["weights"]]);
  assert.match(translation.failed[0]!.reason, /^MESHLOOP_LINKERD_GITOPS_SERVICE_PORT is not set: GitOps output does not read the cluster/);
  assert.doesNotMatch(translation.failed[0]!.reason, /Service shop\/checkout/, "the Service is not to blame");
  assert.equal(translation.resources.length, 1, "the request timeout, another part, is still written");
});

test("denying a caller is unsupported: without the cluster there is no allow list to change", () => {
  const state = desired(target, { deniedCallers: [{ identity: "spiffe://cluster.local/ns/shop/sa/scraper", reason: "abuse", leaseExpiresAt: "2025-05-01T13:00:00Z" }] });
  const translation = translateLinkerd(state, gitopsContext(state, NOW, 8080));
  assert.deepEqual(translation.resources, []);
  assert.deepEqual(translation.unsupported.map((u) => u.capability), ["denyCaller"]);
});
