import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { KubeEmulator } from "@meshloop/kube-emulator";
import { ConflictError, FieldManagerConflictError, KubeApiError, KubeClient } from "../src/index.ts";
import type { KubeObjectLike } from "../src/index.ts";

const VS = { apiVersion: "networking.istio.io/v1", kind: "VirtualService" } as const;
const DEPLOY = { apiVersion: "apps/v1", kind: "Deployment" } as const;
let emulator: KubeEmulator;
let kube: KubeClient;
let n = 0;
let name = "";

function virtualService(weight: number): KubeObjectLike & { spec: unknown } {
  return {
    ...VS,
    metadata: { name, namespace: "shop", labels: { "app.kubernetes.io/managed-by": "meshloop" } },
    spec: { hosts: [name], http: [{ route: [{ destination: { host: name, subset: "v1" }, weight }, { destination: { host: name, subset: "v2" }, weight: 100 - weight }] }] },
  };
}

before(async () => {
  emulator = new KubeEmulator({ token: "t0ken" });
  const url = await emulator.start();
  kube = new KubeClient({ baseUrl: url, token: "t0ken", retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } });
});
after(() => emulator.stop());
beforeEach(() => {
  name = `cart-${++n}`;
});

test("get answers null for a missing object; apply creates it as meshloop's field manager; list filters by label", async () => {
  assert.equal(await kube.get({ ...VS, namespace: "shop", name }), null);
  const created = await kube.apply(virtualService(90));
  assert.ok(created.metadata?.resourceVersion);
  const stored = emulator.object(VS.apiVersion, VS.kind, "shop", name);
  assert.deepEqual((stored?.metadata as { managedFields: { manager: string }[] }).managedFields.map((m) => m.manager), ["meshloop"]);
  const listed = await kube.list(VS, "shop", { labelSelector: "app.kubernetes.io/managed-by=meshloop" });
  assert.ok(listed.some((o) => o.metadata?.name === name && o.kind === "VirtualService"));
  assert.equal((await kube.list(VS, "shop", { labelSelector: "app.kubernetes.io/managed-by=someone-else" })).length, 0);
});

test("the same apply again keeps the resourceVersion; a changed one moves it", async () => {
  const first = await kube.apply(virtualService(90));
  const again = await kube.apply(virtualService(90));
  assert.equal(again.metadata?.resourceVersion, first.metadata?.resourceVersion);
  const changed = await kube.apply(virtualService(50));
  assert.notEqual(changed.metadata?.resourceVersion, first.metadata?.resourceVersion);
});

test("dryRun validates and stores nothing", async () => {
  const answer = await kube.apply(virtualService(80), { dryRun: true });
  assert.equal(answer.metadata?.name, name);
  assert.equal(await kube.get({ ...VS, namespace: "shop", name }), null);
});

test("a field another manager owns is a FieldManagerConflictError, never forced and not retriable", async () => {
  emulator.seed(virtualService(70));
  await assert.rejects(kube.apply(virtualService(10)), (error: unknown) => {
    assert.ok(error instanceof FieldManagerConflictError);
    assert.equal(error.retriable, false);
    assert.match(error.message, /kubectl-create/);
    return true;
  });
  const stored = emulator.object(VS.apiVersion, VS.kind, "shop", name) as { spec: { http: { route: { weight: number }[] }[] } };
  assert.equal(stored.spec.http[0]!.route[0]!.weight, 70, "the other manager's value stays");
});

test("an update with a stale resourceVersion is a retriable ConflictError; with the current one it writes", async () => {
  const created = await kube.apply(virtualService(90));
  emulator.edit(VS.apiVersion, VS.kind, "shop", name, (o) => {
    (o.metadata as { labels: Record<string, string> }).labels.team = "payments";
  });
  await assert.rejects(kube.update(created), (error: unknown) => error instanceof ConflictError && error.retriable);
  const fresh = await kube.get({ ...VS, namespace: "shop", name });
  assert.ok(fresh !== null);
  const updated = await kube.update({ ...fresh, spec: virtualService(40).spec });
  assert.notEqual(updated.metadata?.resourceVersion, fresh.metadata?.resourceVersion);
});

test("the scale subresource reads and sets replicas", async () => {
  emulator.seed({ ...DEPLOY, metadata: { name, namespace: "shop" }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "shop/cart:1" }] } } } });
  const ref = { ...DEPLOY, namespace: "shop", name };
  assert.equal((await kube.getScale(ref))?.spec.replicas, 2);
  await kube.patchScale(ref, 5);
  assert.equal((await kube.getScale(ref))?.spec.replicas, 5);
  assert.equal(await kube.getScale({ ...ref, name: "missing" }), null);
});

test("a 500 is retried within the budget; a 403 is not retried and says so", async () => {
  let calls = 0;
  const off = emulator.onRequest((r) => {
    if (r.method !== "PATCH" || !r.path.includes(name)) return undefined;
    calls++;
    return calls === 1 ? { status: 500, message: "etcdserver: leader changed" } : undefined;
  });
  try {
    await kube.apply(virtualService(90));
    assert.equal(calls, 2);
  } finally {
    off();
  }
  const stranger = new KubeClient({ baseUrl: emulator.url, token: "wrong", retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } });
  await assert.rejects(stranger.apply(virtualService(90)), (error: unknown) => error instanceof KubeApiError && error.status === 401 && !error.retriable);
});

test("delete answers false for a missing object and true once it removed one", async () => {
  await kube.apply(virtualService(90));
  const ref = { ...VS, namespace: "shop", name };
  assert.equal(await kube.delete(ref), true);
  assert.equal(await kube.delete(ref), false);
});
