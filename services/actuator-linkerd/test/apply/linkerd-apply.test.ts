// The Linkerd translation applied through KubeApplier to the kube emulator: what the API server ends up holding.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubeApplier } from "@meshloop/actuator-runtime";
import type { ApplyOutcome } from "@meshloop/actuator-runtime";
import type { Decision } from "@meshloop/contracts";
import { KubeClient } from "@meshloop/kube-client";
import { KubeEmulator } from "@meshloop/kube-emulator";
import type { LinkerdContext } from "../../src/context.ts";
import { readLinkerdContext } from "../../src/read-context.ts";
import { translateLinkerd } from "../../src/translate/translate.ts";
import { decisionFor, freshNamespace, HTTP_ROUTE, RETRIES, seedTarget, stored } from "../cluster.ts";
import type { Stored, StoredRoute } from "../cluster.ts";

describe("Linkerd decisions applied through the Kubernetes API", () => {
  const emulator = new KubeEmulator();
  let kube: KubeClient;
  let applier: KubeApplier<LinkerdContext>;

  before(async () => {
    kube = new KubeClient({ baseUrl: await emulator.start() });
    applier = new KubeApplier<LinkerdContext>({ mesh: "linkerd", kube, read: (target, client, nowMs) => readLinkerdContext(client, target, nowMs), translate: translateLinkerd });
  });
  after(async () => {
    await emulator.stop();
  });

  const apply = (decision: Decision, mode: "apply" | "dry-run" = "apply"): Promise<ApplyOutcome> => applier.apply(decision, { mode, signal: new AbortController().signal });
  const route = (ns: string, name: string) => stored<StoredRoute>(emulator, HTTP_ROUTE, "HTTPRoute", ns, name);
  const service = (ns: string) => stored(emulator, "v1", "Service", ns, "checkout")!;
  const weights = { v1: 90, v2: 10 };

  it("creates meshloop's HTTPRoute with the weighted backends, as field manager meshloop; the same decision again changes nothing", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    const first = await apply(decisionFor(target, 1, { weights }));
    assert.equal(first.status, "applied", first.reason);
    assert.deepEqual(first.resources.map((r) => [r.kind, r.name, r.status]), [["HTTPRoute", "checkout-meshloop", "applied"]]);
    const created = route(ns, "checkout-meshloop");
    assert.ok(created, "the HTTPRoute is in the API server");
    assert.equal(created.metadata.labels?.["app.kubernetes.io/managed-by"], "meshloop");
    assert.deepEqual(created.spec.parentRefs, [{ group: "core", kind: "Service", name: "checkout", port: 80 }]);
    assert.deepEqual(created.spec.rules, [{ backendRefs: [{ name: "checkout-v1", port: 80, weight: 90 }, { name: "checkout-v2", port: 80, weight: 10 }] }]);
    assert.deepEqual(created.metadata.managedFields?.map((m) => [m.manager, m.operation]), [["meshloop", "Apply"]]);

    const again = await apply(decisionFor(target, 2, { weights }));
    assert.equal(again.status, "applied", again.reason);
    assert.ok(again.resources.length > 0 && again.resources.every((r) => r.status === "unchanged"), JSON.stringify(again.resources));
    assert.match(again.reason, /already holds the desired state/);
    assert.equal(route(ns, "checkout-meshloop")!.metadata.resourceVersion, created.metadata.resourceVersion);
  });

  it("carries the weights in the catch-all rule of the user's HTTPRoute, keeping the user's other rules and creating no route of its own", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    const admin = { matches: [{ path: { type: "PathPrefix", value: "/admin" } }], backendRefs: [{ name: "checkout-admin", port: 9000 }] };
    emulator.seed({
      apiVersion: HTTP_ROUTE,
      kind: "HTTPRoute",
      metadata: { name: "checkout-users", namespace: ns, annotations: { team: "payments" } },
      spec: {
        parentRefs: [{ group: "core", kind: "Service", name: "checkout", port: 80 }],
        rules: [admin, { matches: [{ path: { type: "PathPrefix", value: "/" } }], timeouts: { request: "5s" }, backendRefs: [{ name: "checkout", port: 80 }] }],
      },
    });
    const outcome = await apply(decisionFor(target, 1, { weights }));
    assert.equal(outcome.status, "applied", outcome.reason);
    const merged = route(ns, "checkout-users")!;
    assert.deepEqual(merged.spec.rules[0], admin, "the user's /admin rule is untouched");
    assert.deepEqual(merged.spec.rules[1], {
      matches: [{ path: { type: "PathPrefix", value: "/" } }],
      timeouts: { request: "5s" },
      backendRefs: [{ name: "checkout-v1", port: 80, weight: 90 }, { name: "checkout-v2", port: 80, weight: 10 }],
    });
    assert.equal(merged.metadata.annotations?.team, "payments");
    assert.equal(route(ns, "checkout-meshloop"), null, "one catch-all rule carries the weights: meshloop adds no route of its own");

    const again = await apply(decisionFor(target, 2, { weights }));
    assert.ok(again.resources.every((r) => r.status === "unchanged"), JSON.stringify(again.resources));
  });

  it("leaves a user's HTTPRoute without a catch-all rule alone and adds its own route for the rest of the traffic", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    const users = emulator.seed({
      apiVersion: HTTP_ROUTE,
      kind: "HTTPRoute",
      metadata: { name: "checkout-admin", namespace: ns },
      spec: { parentRefs: [{ group: "core", kind: "Service", name: "checkout", port: 80 }], rules: [{ matches: [{ path: { type: "PathPrefix", value: "/admin" } }], backendRefs: [{ name: "checkout-admin", port: 9000 }] }] },
    }) as unknown as Stored;
    const outcome = await apply(decisionFor(target, 1, { weights }));
    assert.equal(outcome.status, "applied", outcome.reason);
    assert.equal(route(ns, "checkout-admin")!.metadata.resourceVersion, users.metadata.resourceVersion);
    assert.deepEqual(route(ns, "checkout-meshloop")!.spec.rules[0]!.backendRefs?.map((b) => b.weight), [90, 10]);
  });

  it("keeps a user's change made between meshloop's read and its update: the 409 makes it read and translate again", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    emulator.seed({
      apiVersion: HTTP_ROUTE,
      kind: "HTTPRoute",
      metadata: { name: "checkout-users", namespace: ns },
      spec: { parentRefs: [{ group: "core", kind: "Service", name: "checkout", port: 80 }], rules: [{ backendRefs: [{ name: "checkout", port: 80 }] }] },
    });
    let edited = false;
    const remove = emulator.onRequest((request) => {
      if (edited || request.method !== "PUT" || !request.path.endsWith(`/namespaces/${ns}/httproutes/checkout-users`)) return undefined;
      edited = true;
      emulator.edit(HTTP_ROUTE, "HTTPRoute", ns, "checkout-users", (o) => {
        (o.metadata as { labels?: Record<string, string> }).labels = { owner: "team-a" };
      });
      return undefined;
    });
    try {
      const outcome = await apply(decisionFor(target, 1, { weights }));
      assert.equal(outcome.status, "applied", outcome.reason);
    } finally {
      remove();
    }
    assert.ok(edited, "the user's edit happened mid-apply");
    const after = route(ns, "checkout-users")!;
    assert.deepEqual(after.metadata.labels, { owner: "team-a" }, "the user's change survived");
    assert.deepEqual(after.spec.rules[0]!.backendRefs?.map((b) => [b.name, b.weight]), [["checkout-v1", 90], ["checkout-v2", 10]]);
  });

  it("fails naming the ServiceProfile that silences the route and annotations, and still writes the parts it does not silence", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    emulator.seed({ apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name: `checkout.${ns}.svc.cluster.local`, namespace: ns }, spec: { routes: [] } });
    const before = service(ns).metadata.resourceVersion;
    const outcome = await apply(decisionFor(target, 1, { weights, retries: RETRIES, replicas: { count: 5, mode: "apply" } }));
    assert.equal(outcome.status, "failed", "never applied while a part is not");
    assert.match(outcome.reason, new RegExp(`^weights, retries failed: ServiceProfile ${ns}/checkout\\.${ns}\\.svc\\.cluster\\.local exists.*; the other parts written: Deployment ${ns}/checkout`));
    assert.deepEqual(outcome.resources.map((r) => [r.kind, r.name, r.status]), [["Deployment", "checkout", "applied"], ["part", "weights+retries", "failed"]]);
    assert.equal(route(ns, "checkout-meshloop"), null);
    assert.equal(service(ns).metadata.resourceVersion, before, "the silenced annotations are not written");
    assert.equal((stored(emulator, "apps/v1", "Deployment", ns, "checkout")!.spec as { replicas: number }).replicas, 5, "the replicas part is carried out");

    // The ServiceProfile moved to HTTPRoutes and removed: the next decision (the whole desired state) reconciles the rest.
    await kube.delete({ apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", namespace: ns, name: `checkout.${ns}.svc.cluster.local` });
    const next = await apply(decisionFor(target, 2, { weights, retries: RETRIES, replicas: { count: 5, mode: "apply" } }));
    assert.equal(next.status, "applied", next.reason);
    assert.deepEqual(next.resources.map((r) => [r.kind, r.status]), [["HTTPRoute", "applied"], ["Service", "applied"], ["Deployment", "unchanged"]]);
    assert.deepEqual(route(ns, "checkout-meshloop")!.spec.rules[0]!.backendRefs?.map((b) => b.weight), [90, 10]);
  });

  it("names each version's own port in the backendRefs, matched to the target's port by name, and fails weights on a version without one", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    // checkout takes 80 to the pods' `http`; v1 serves it as `http` on 8080, v2 (unnamed) forwards 9090 to `http`.
    emulator.edit("v1", "Service", ns, "checkout-v1", (o) => {
      (o.spec as { ports: unknown }).ports = [{ name: "admin", port: 80, targetPort: 9000 }, { name: "http", port: 8080, targetPort: "http" }];
    });
    emulator.edit("v1", "Service", ns, "checkout-v2", (o) => {
      (o.spec as { ports: unknown }).ports = [{ port: 9090, targetPort: "http" }];
    });
    const outcome = await apply(decisionFor(target, 1, { weights }));
    assert.equal(outcome.status, "applied", outcome.reason);
    assert.deepEqual(route(ns, "checkout-meshloop")!.spec.parentRefs[0]!.port, 80, "the route attaches to the target's port");
    assert.deepEqual(route(ns, "checkout-meshloop")!.spec.rules[0]!.backendRefs, [{ name: "checkout-v1", port: 8080, weight: 90 }, { name: "checkout-v2", port: 9090, weight: 10 }]);

    emulator.edit("v1", "Service", ns, "checkout-v2", (o) => {
      (o.spec as { ports: unknown }).ports = [{ name: "metrics", port: 9100, targetPort: 9100 }];
    });
    const blocked = await apply(decisionFor(target, 2, { weights: { v1: 50, v2: 50 }, retries: RETRIES }));
    assert.equal(blocked.status, "failed");
    assert.match(blocked.reason, /^weights failed: backend Service checkout-v2 has no port matching checkout's port 80 \(name http, targetPort http\)/);
    assert.deepEqual(blocked.resources.map((r) => [r.kind, r.name, r.status]), [["Service", "checkout", "applied"], ["part", "weights", "failed"]]);
    assert.deepEqual(route(ns, "checkout-meshloop")!.spec.rules[0]!.backendRefs?.map((b) => b.weight), [90, 10], "the split stays as it was");
  });

  it("dry-run: the API server checks every write and nothing changes", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    const before = service(ns).metadata.resourceVersion;
    const seen = emulator.requests.length;
    const outcome = await apply(decisionFor(target, 1, { weights, retries: RETRIES, requestTimeoutMs: 2000 }), "dry-run");
    assert.equal(outcome.status, "dry-run", outcome.reason);
    assert.match(outcome.reason, /accepted a dry run of 2 writes/);
    assert.deepEqual(outcome.resources.map((r) => [r.kind, r.status]), [["HTTPRoute", "skipped"], ["Service", "skipped"]]);
    const writes = emulator.requests.slice(seen).filter((r) => r.method !== "GET");
    assert.equal(writes.length, 2);
    assert.ok(writes.every((r) => r.query.dryRun === "All"), "every write was a dry run");
    assert.equal(route(ns, "checkout-meshloop"), null);
    assert.equal(service(ns).metadata.resourceVersion, before);
    assert.equal(service(ns).metadata.annotations, undefined);
  });

  it("writes retries and the request timeout as the Service's annotations, owning only those keys, and removes those no longer wanted", async () => {
    const ns = freshNamespace();
    const target = seedTarget(emulator, ns);
    const spec = service(ns).spec;
    const outcome = await apply(decisionFor(target, 1, { retries: RETRIES, requestTimeoutMs: 2000 }));
    assert.equal(outcome.status, "applied", outcome.reason);
    assert.deepEqual(outcome.resources.map((r) => [r.kind, r.name, r.status]), [["Service", "checkout", "applied"]]);
    const annotated = service(ns);
    assert.deepEqual(annotated.metadata.annotations, {
      "retry.linkerd.io/grpc": "unavailable",
      "retry.linkerd.io/http": "5xx,503",
      "retry.linkerd.io/limit": "3",
      "retry.linkerd.io/timeout": "250ms",
      "timeout.linkerd.io/request": "2s",
    });
    assert.deepEqual(annotated.spec, spec, "the Service's spec is not meshloop's and stays as it was");
    assert.deepEqual(annotated.metadata.managedFields?.map((m) => [m.manager, m.operation]), [["kubectl-create", "Update"], ["meshloop", "Apply"]]);

    emulator.edit("v1", "Service", ns, "checkout", (o) => {
      (o.metadata as { annotations: Record<string, string> }).annotations["owner"] = "team-a";
    });
    // Retries no longer wanted: the keys meshloop applied before and leaves out now are removed by the API server.
    const fewer = await apply(decisionFor(target, 2, { requestTimeoutMs: 3000 }));
    assert.equal(fewer.status, "applied", fewer.reason);
    assert.deepEqual(service(ns).metadata.annotations, { owner: "team-a", "timeout.linkerd.io/request": "3s" }, "meshloop's retry keys go, the user's key stays");

    // Nothing left for the Service: an apply of no annotations releases the last of meshloop's keys.
    const none = await apply(decisionFor(target, 3, { rateLimit: null }));
    assert.equal(none.status, "applied", none.reason);
    assert.deepEqual(service(ns).metadata.annotations, { owner: "team-a" });
    assert.ok(!(service(ns).metadata.managedFields ?? []).some((m) => m.manager === "meshloop"), "meshloop owns nothing of the Service any more");
  });
});
