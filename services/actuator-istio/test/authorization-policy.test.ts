import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import type { IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import { translateIstio } from "../src/index.ts";
import { context, EARLIER, LATER, MANAGED, state } from "./fixtures.ts";

const CRAWLER = { identity: "spiffe://cluster.local/ns/shop/sa/crawler", service: "crawler", namespace: "shop", reason: "403 storm", leaseExpiresAt: LATER };
const BATCH = { identity: "spiffe://cluster.local/ns/jobs/sa/batch", reason: "retry storm" };

const OWNED: IAuthorizationPolicy = {
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: "checkout-meshloop-deny", namespace: "shop", labels: MANAGED },
  spec: { action: "DENY" },
};

test("denied callers become one DENY policy of meshloop's, by principal, selecting the target's pods", () => {
  const result = translateIstio(state({ deniedCallers: [CRAWLER, BATCH] }), context());
  assert.equal(result.resources.length, 1);
  const write = result.resources[0]!;
  assert.ok(write.action === "apply");
  assert.deepEqual(write.object, {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: {
      name: "checkout-meshloop-deny",
      namespace: "shop",
      labels: MANAGED,
      annotations: {
        "meshloop.io/denied-callers": JSON.stringify([
          { identity: "spiffe://cluster.local/ns/jobs/sa/batch", reason: "retry storm" },
          { identity: "spiffe://cluster.local/ns/shop/sa/crawler", reason: "403 storm", leaseExpiresAt: LATER },
        ]),
      },
    },
    spec: {
      selector: { matchLabels: { app: "checkout" } },
      action: "DENY",
      rules: [{ from: [{ source: { principals: ["cluster.local/ns/jobs/sa/batch", "cluster.local/ns/shop/sa/crawler"] } }] }],
    },
  });
  assert.doesNotThrow(() => new AuthorizationPolicy(write.object as IAuthorizationPolicy).validate());
});

test("no denied callers left removes meshloop's policy, which restores what was allowed before", () => {
  assert.deepEqual(translateIstio(state(), context({ authorizationPolicy: OWNED })).resources, [
    { action: "delete", ref: { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", namespace: "shop", name: "checkout-meshloop-deny" } },
  ]);
  assert.deepEqual(translateIstio(state(), context()).resources, [], "nothing to delete when it does not exist");
});

test("a denial whose lease expired is dropped even without a newer decision", () => {
  const expired = { ...CRAWLER, leaseExpiresAt: EARLIER };
  const result = translateIstio(state({ deniedCallers: [expired] }), context({ authorizationPolicy: OWNED }));
  assert.deepEqual(result.resources.map((w) => w.action), ["delete"]);
});

test("without mTLS known to be STRICT the result warns that plaintext callers pass a DENY by principal", () => {
  const result = translateIstio(state({ deniedCallers: [CRAWLER] }), context({ mtlsStrict: false }));
  assert.ok(result.warnings.some((w) => w.includes("plaintext")));
});

test("a Service without a selector cannot be isolated: unsupported, nothing written", () => {
  const result = translateIstio(state({ deniedCallers: [CRAWLER] }), context({ workloadSelector: null }));
  assert.deepEqual(result.resources, []);
  assert.equal(result.unsupported[0]?.capability, "denyCaller");
});

test("an object of someone else's under meshloop's name is refused, not taken over", () => {
  const foreign = { ...OWNED, metadata: { name: "checkout-meshloop-deny", namespace: "shop" } };
  const result = translateIstio(state({ deniedCallers: [CRAWLER] }), context({ authorizationPolicy: foreign }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.refused[0]?.capabilities, ["denyCaller"]);
});
