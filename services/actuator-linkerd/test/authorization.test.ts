import assert from "node:assert/strict";
import { test } from "node:test";
import { translateLinkerd } from "../src/index.ts";
import type { LinkerdAuthorizationPolicy, LinkerdServer, MeshTLSAuthentication } from "../src/index.ts";
import { context, EARLIER, LATER, MANAGED, objectOf, state } from "./fixtures.ts";

const WEB = "web.shop.serviceaccount.identity.linkerd.cluster.local";
const CRAWLER = "crawler.shop.serviceaccount.identity.linkerd.cluster.local";
const BATCH = "batch.jobs.serviceaccount.identity.linkerd.cluster.local";
const DENY_CRAWLER = { identity: "spiffe://cluster.local/ns/shop/sa/crawler", reason: "scraping", leaseExpiresAt: LATER };

const SERVER: LinkerdServer = { apiVersion: "policy.linkerd.io/v1beta3", kind: "Server", metadata: { name: "checkout-http", namespace: "shop" }, spec: { port: 8080, accessPolicy: "deny" } };

function policy(refs = [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: "checkout-clients" }]): LinkerdAuthorizationPolicy {
  return {
    apiVersion: "policy.linkerd.io/v1alpha1",
    kind: "AuthorizationPolicy",
    metadata: { name: "checkout-clients", namespace: "shop" },
    spec: { targetRef: { group: "policy.linkerd.io", kind: "Server", name: "checkout-http" }, requiredAuthenticationRefs: refs },
  };
}

function allowList(identities = [WEB, CRAWLER, BATCH]): MeshTLSAuthentication {
  return { apiVersion: "policy.linkerd.io/v1alpha1", kind: "MeshTLSAuthentication", metadata: { name: "checkout-clients", namespace: "shop", resourceVersion: "12" }, spec: { identities } };
}

const existing = { server: SERVER, authorizationPolicies: [policy()] };

test("a denied caller is taken out of the allow list the Server's policy requires, and the removal is recorded", () => {
  const result = translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...existing, meshTLSAuthentications: [allowList()] }));
  assert.deepEqual(result.unsupported, []);
  assert.deepEqual(result.resources, [
    {
      action: "update",
      object: {
        apiVersion: "policy.linkerd.io/v1alpha1",
        kind: "MeshTLSAuthentication",
        metadata: {
          name: "checkout-clients",
          namespace: "shop",
          resourceVersion: "12",
          annotations: { "meshloop.io/removed-identities": JSON.stringify({ identities: [CRAWLER], identityRefs: [] }) },
        },
        spec: { identities: [WEB, BATCH] },
      },
    },
  ]);
});

test("translating again over its own result writes nothing; ending the denial puts the identity back", () => {
  const first = objectOf(translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...existing, meshTLSAuthentications: [allowList()] })).resources[0]) as MeshTLSAuthentication;
  assert.deepEqual(translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...existing, meshTLSAuthentications: [first] })).resources, []);
  const released = translateLinkerd(state(), context({ ...existing, meshTLSAuthentications: [first] }));
  assert.deepEqual(released.resources, [
    {
      action: "update",
      object: { apiVersion: "policy.linkerd.io/v1alpha1", kind: "MeshTLSAuthentication", metadata: { name: "checkout-clients", namespace: "shop", resourceVersion: "12" }, spec: { identities: [WEB, BATCH, CRAWLER] } },
    },
  ]);
});

test("a denial whose lease ran out puts the identity back without a newer decision", () => {
  const first = objectOf(translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...existing, meshTLSAuthentications: [allowList()] })).resources[0]) as MeshTLSAuthentication;
  const expired = translateLinkerd(state({ deniedCallers: [{ ...DENY_CRAWLER, leaseExpiresAt: EARLIER }] }), context({ ...existing, meshTLSAuthentications: [first] }));
  assert.deepEqual((objectOf(expired.resources[0]) as MeshTLSAuthentication).spec?.identities, [WEB, BATCH, CRAWLER]);
});

test("a service-account reference is removed like an identity", () => {
  const list: MeshTLSAuthentication = { ...allowList([WEB]), spec: { identities: [WEB], identityRefs: [{ kind: "ServiceAccount", name: "crawler" }, { kind: "ServiceAccount", name: "crawler", namespace: "other" }] } };
  const result = translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...existing, meshTLSAuthentications: [list] }));
  const updated = objectOf(result.resources[0]) as MeshTLSAuthentication;
  assert.deepEqual(updated.spec?.identityRefs, [{ kind: "ServiceAccount", name: "crawler", namespace: "other" }]);
  assert.deepEqual(JSON.parse(updated.metadata!.annotations!["meshloop.io/removed-identities"]!), { identities: [], identityRefs: [{ kind: "ServiceAccount", name: "crawler" }] });
});

test("a caller a wildcard still admits is unsupported for that caller, with the pattern named", () => {
  const list = allowList([WEB, "*.shop.serviceaccount.identity.linkerd.cluster.local"]);
  const result = translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...existing, meshTLSAuthentications: [list] }));
  assert.deepEqual(result.unsupported, [
    { capability: "denyCaller", reason: "spiffe://cluster.local/ns/shop/sa/crawler stays allowed: MeshTLSAuthentication checkout-clients admits it by the pattern *.shop.serviceaccount.identity.linkerd.cluster.local" },
  ]);
});

test("a Server whose default admits unnamed callers, or a policy by network alone, makes removal useless: unsupported", () => {
  const open = { ...SERVER, spec: { ...SERVER.spec, accessPolicy: "all-authenticated" } };
  const permissive = translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...existing, server: open, meshTLSAuthentications: [allowList()] }));
  assert.match(permissive.unsupported[0]!.reason, /accessPolicy all-authenticated/);
  assert.deepEqual(permissive.resources, []);
  const byNetwork = policy([{ group: "policy.linkerd.io", kind: "NetworkAuthentication", name: "cluster-network" }]);
  const network = translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ server: SERVER, authorizationPolicies: [policy(), byNetwork], meshTLSAuthentications: [allowList()] }));
  assert.match(network.unsupported[0]!.reason, /admits any identity by network/);
});

test("no allow list: unsupported unless the policy allows building one from observed callers", () => {
  const result = translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context());
  assert.deepEqual(result.unsupported, [
    {
      capability: "denyCaller",
      reason: "Linkerd authorization is an allow list and the target has none: creating one would deny every caller not on it (the policy does not allow building it from observed callers)",
    },
  ]);
  assert.deepEqual(result.resources, []);
});

test("built from observed callers: allow list and policy first, then the Server that denies everyone else", () => {
  const result = translateLinkerd(
    state({ deniedCallers: [DENY_CRAWLER] }),
    context({ allowListFromObservedCallers: true, observedCallers: ["spiffe://cluster.local/ns/shop/sa/web", "spiffe://cluster.local/ns/shop/sa/crawler", BATCH] }),
  );
  assert.deepEqual(result.resources, [
    {
      action: "apply",
      object: {
        apiVersion: "policy.linkerd.io/v1alpha1",
        kind: "MeshTLSAuthentication",
        metadata: { name: "checkout-meshloop-allow", namespace: "shop", labels: MANAGED, annotations: { "meshloop.io/removed-identities": JSON.stringify({ identities: [CRAWLER], identityRefs: [] }) } },
        spec: { identities: [BATCH, WEB] },
      },
    },
    {
      action: "apply",
      object: {
        apiVersion: "policy.linkerd.io/v1alpha1",
        kind: "AuthorizationPolicy",
        metadata: { name: "checkout-meshloop-allow", namespace: "shop", labels: MANAGED },
        spec: {
          targetRef: { group: "policy.linkerd.io", kind: "Server", name: "checkout-meshloop" },
          requiredAuthenticationRefs: [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: "checkout-meshloop-allow" }],
        },
      },
    },
    {
      action: "apply",
      object: {
        apiVersion: "policy.linkerd.io/v1beta3",
        kind: "Server",
        metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED },
        spec: { podSelector: { matchLabels: { app: "checkout" } }, port: 8080, accessPolicy: "deny" },
      },
    },
  ]);
  assert.ok(result.warnings.some((w) => w.startsWith("allow list built from 2 observed callers")));
});

test("a built allow list follows newly observed callers, and goes away (Server first) when no one is denied", () => {
  const built = translateLinkerd(
    state({ deniedCallers: [DENY_CRAWLER] }),
    context({ allowListFromObservedCallers: true, observedCallers: [WEB, CRAWLER] }),
  ).resources.map((w) => objectOf(w));
  const [list, authz, server] = built as [MeshTLSAuthentication, LinkerdAuthorizationPolicy, LinkerdServer];
  const cluster = { server, authorizationPolicies: [authz], meshTLSAuthentications: [list], allowListFromObservedCallers: true };
  const grown = translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...cluster, observedCallers: [WEB, CRAWLER, BATCH] }));
  assert.deepEqual((objectOf(grown.resources[0]) as MeshTLSAuthentication).spec?.identities, [BATCH, WEB]);
  const released = translateLinkerd(state(), context(cluster));
  assert.deepEqual(released.resources.map((w) => (w.action === "delete" ? w.ref.kind : w.action)), ["Server", "AuthorizationPolicy", "MeshTLSAuthentication"]);
});

test("an allow list Argo CD syncs is refused rather than edited", () => {
  const list = allowList();
  list.metadata!.annotations = { "argocd.argoproj.io/tracking-id": "shop:policy.linkerd.io/MeshTLSAuthentication:shop/checkout-clients" };
  const result = translateLinkerd(state({ deniedCallers: [DENY_CRAWLER] }), context({ ...existing, meshTLSAuthentications: [list] }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.refused.map((r) => r.capabilities), [["denyCaller"]]);
});
