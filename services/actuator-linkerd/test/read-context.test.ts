// readLinkerdContext against the kube emulator: which of a namespace's objects it takes as the target's.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubeClient } from "@meshloop/kube-client";
import { KubeEmulator } from "@meshloop/kube-emulator";
import { readLinkerdContext, TargetServiceMissingError } from "../src/read-context.ts";
import { freshNamespace, HTTP_ROUTE, POLICY, SERVER, seedServer, seedTarget } from "./cluster.ts";

const NOW = Date.parse("2025-05-01T12:00:00Z");
const MANAGED = { "app.kubernetes.io/managed-by": "meshloop" };

describe("readLinkerdContext", () => {
  const emulator = new KubeEmulator();
  let kube: KubeClient;

  before(async () => {
    kube = new KubeClient({ baseUrl: await emulator.start() });
  });
  after(async () => {
    await emulator.stop();
  });

  it("reads the Service, the namespace's Service names, endpoints, workload and pod port; no callers are observed yet", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    emulator.seed({ apiVersion: "v1", kind: "Service", metadata: { name: "checkout", namespace: freshNamespace("elsewhere") }, spec: { ports: [{ port: 80 }] } });
    const context = await readLinkerdContext(kube, target, NOW, { allowListFromObservedCallers: true, trustDomain: "example.org" });
    assert.equal(context.nowMs, NOW);
    assert.equal(context.trustDomain, "example.org");
    assert.equal(context.service.metadata?.name, "checkout");
    assert.deepEqual(context.service.spec?.ports, [{ name: "http", port: 80, targetPort: "http" }]);
    assert.deepEqual(context.backendServices, ["checkout", "checkout-v1", "checkout-v2"]);
    assert.equal(context.endpoints, 2, "the not-ready endpoint does not enforce a share of the limit");
    assert.equal(context.workload?.metadata?.name, "checkout");
    assert.deepEqual(context.workloadSelector, { app: "checkout" });
    assert.equal(context.targetPort, "http");
    assert.equal(context.allowListFromObservedCallers, true);
    assert.deepEqual(context.observedCallers, []);
    assert.equal(context.serviceProfile, null);
    assert.equal(context.server, null);
    assert.equal(context.rateLimitPolicy, null);
  });

  it("defaults allowListFromObservedCallers to false", async () => {
    const target = seedTarget(emulator, freshNamespace());
    assert.equal((await readLinkerdContext(kube, target, NOW)).allowListFromObservedCallers, false);
  });

  it("takes the HTTPRoutes whose parentRefs name the Service, with group core or empty", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    const route = (name: string, parentRef: Record<string, unknown>) =>
      emulator.seed({ apiVersion: HTTP_ROUTE, kind: "HTTPRoute", metadata: { name, namespace: ns }, spec: { parentRefs: [parentRef], rules: [{ backendRefs: [{ name: "checkout-v1", port: 80 }] }] } });
    route("core", { group: "core", kind: "Service", name: "checkout", port: 80 });
    route("empty-group", { group: "", kind: "Service", name: "checkout" });
    route("other-service", { group: "core", kind: "Service", name: "payments" });
    route("gateway", { name: "checkout" });
    route("other-namespace", { group: "core", kind: "Service", name: "checkout", namespace: "elsewhere" });
    const context = await readLinkerdContext(kube, target, NOW);
    assert.deepEqual(context.httpRoutes.map((r) => r.metadata?.name).sort(), ["core", "empty-group"]);
  });

  it("reads the ServiceProfile named for the Service in the cluster's domain", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    emulator.seed({ apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name: `checkout.${ns}.svc.cluster.local`, namespace: ns }, spec: { routes: [] } });
    assert.equal((await readLinkerdContext(kube, target, NOW)).serviceProfile?.metadata?.name, `checkout.${ns}.svc.cluster.local`);
    assert.equal((await readLinkerdContext(kube, target, NOW, { clusterDomain: "corp.internal" })).serviceProfile, null, "another domain's name is another Service's profile");
  });

  it("takes the Server whose selector selects the pods and whose port is theirs, named or by number", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    emulator.seed({ apiVersion: SERVER, kind: "Server", metadata: { name: "other-pods", namespace: ns }, spec: { podSelector: { matchLabels: { app: "payments" } }, port: "http" } });
    emulator.seed({ apiVersion: SERVER, kind: "Server", metadata: { name: "admin-port", namespace: ns }, spec: { podSelector: { matchLabels: { app: "checkout" } }, port: 9990 } });
    emulator.seed({ apiVersion: SERVER, kind: "Server", metadata: { name: "by-number", namespace: ns }, spec: { podSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }] }, port: 8080 } });
    const context = await readLinkerdContext(kube, target, NOW);
    assert.equal(context.server?.metadata?.name, "by-number", "8080 is the container port the Service's `http` names");

    const ns2 = freshNamespace();
    const target2 = seedTarget(emulator, ns2);
    seedServer(emulator, ns2, "named");
    assert.equal((await readLinkerdContext(kube, target2, NOW)).server?.metadata?.name, "named");
  });

  it("takes the AuthorizationPolicies on the Server or the namespace, and the MeshTLSAuthentications they require", async () => {
    const ns = freshNamespace();
    const other = freshNamespace("identities");
    const target = seedTarget(emulator, ns);
    seedServer(emulator, ns);
    const policy = (name: string, targetRef: Record<string, unknown>, refs: Record<string, unknown>[]) =>
      emulator.seed({ apiVersion: POLICY, kind: "AuthorizationPolicy", metadata: { name, namespace: ns }, spec: { targetRef, requiredAuthenticationRefs: refs } });
    const mtls = (name: string, namespace: string) =>
      emulator.seed({ apiVersion: POLICY, kind: "MeshTLSAuthentication", metadata: { name, namespace }, spec: { identities: [`${name}.${namespace}.serviceaccount.identity.linkerd.cluster.local`] } });
    policy("on-server", { group: "policy.linkerd.io", kind: "Server", name: "checkout-http" }, [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: "frontends" }]);
    policy("on-namespace", { kind: "Namespace", name: ns }, [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: "shared", namespace: other }]);
    policy("on-other-server", { group: "policy.linkerd.io", kind: "Server", name: "payments-http" }, [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: "unrelated" }]);
    mtls("frontends", ns);
    mtls("unrelated", ns);
    mtls("shared", other);
    const context = await readLinkerdContext(kube, target, NOW);
    assert.deepEqual(context.authorizationPolicies.map((p) => p.metadata?.name).sort(), ["on-namespace", "on-server"]);
    assert.deepEqual(context.meshTLSAuthentications.map((m) => `${m.metadata?.namespace}/${m.metadata?.name}`).sort(), [`${ns}/frontends`, `${other}/shared`].sort());
  });

  it("takes the user's rate limit policy on the Server over meshloop's, and meshloop's by name when there is no Server", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    const limit = (name: string, server: string, labels: Record<string, string> = {}) =>
      emulator.seed({ apiVersion: POLICY, kind: "HTTPLocalRateLimitPolicy", metadata: { name, namespace: ns, labels }, spec: { targetRef: { group: "policy.linkerd.io", kind: "Server", name: server }, total: { requestsPerSecond: 10 } } });
    limit("checkout-meshloop-ratelimit", "checkout-http", MANAGED);
    assert.equal((await readLinkerdContext(kube, target, NOW)).rateLimitPolicy?.metadata?.name, "checkout-meshloop-ratelimit", "no Server: meshloop's own, to remove it");
    seedServer(emulator, ns);
    limit("users-limit", "checkout-http");
    limit("other-limit", "payments-http");
    assert.equal((await readLinkerdContext(kube, target, NOW)).rateLimitPolicy?.metadata?.name, "users-limit");
  });

  it("fails, not retriably, for a Service the cluster does not have", async () => {
    const ns = freshNamespace();
    await assert.rejects(readLinkerdContext(kube, { mesh: "linkerd", namespace: ns, service: "checkout" }, NOW), (error: unknown) => {
      assert.ok(error instanceof TargetServiceMissingError);
      assert.equal(error.retriable, false);
      assert.match(error.message, new RegExp(`Service ${ns}/checkout does not exist`));
      return true;
    });
  });
});
