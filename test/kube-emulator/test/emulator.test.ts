import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { APPLY_PATCH, KubeEmulator, MERGE_PATCH } from "../src/index.ts";
import type { JsonObject } from "../src/index.ts";

const VS = "/apis/networking.istio.io/v1/namespaces/shop/virtualservices";

function vs(name: string, http: unknown[], extra: JsonObject = {}): JsonObject {
  return { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name, namespace: "shop", ...extra }, spec: { hosts: ["cart"], http: http as JsonObject[] } };
}

describe("KubeEmulator", () => {
  let emulator: KubeEmulator;
  let base: string;

  before(async () => {
    emulator = new KubeEmulator({ token: "secret" });
    base = await emulator.start();
  });
  after(async () => {
    await emulator.stop();
  });
  beforeEach(() => {
    for (const name of ["cart", "owned", "gone"]) {
      try {
        emulator.store.delete(emulator.type("networking.istio.io/v1", "VirtualService"), "shop", name, { dryRun: false });
      } catch {
        // not there
      }
    }
  });

  async function call(method: string, path: string, body?: unknown, contentType = "application/json", token = "secret") {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": contentType, "user-agent": "kubectl-edit/v1.33" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as JsonObject, headers: res.headers };
  }
  const meta = (o: JsonObject) => o.metadata as JsonObject & { resourceVersion: string; managedFields: JsonObject[] };

  it("answers 401 without the bearer token", async () => {
    const r = await call("GET", `${VS}/cart`, undefined, "application/json", "wrong");
    assert.equal(r.status, 401);
    assert.equal(r.body.kind, "Status");
  });

  it("answers 404 with a Status naming the resource for a missing object", async () => {
    const r = await call("GET", `${VS}/nope`);
    assert.equal(r.status, 404);
    assert.equal(r.body.reason, "NotFound");
    assert.equal(r.body.message, 'virtualservices.networking.istio.io "nope" not found');
  });

  it("bumps resourceVersion on change, not on a no-op update, and refuses a stale or missing one", async () => {
    const created = await call("POST", VS, vs("cart", [{ name: "a", route: [{ destination: { host: "cart" } }] }]));
    assert.equal(created.status, 200);
    const rv1 = meta(created.body).resourceVersion;
    const same = await call("PUT", `${VS}/cart`, created.body);
    assert.equal(meta(same.body).resourceVersion, rv1, "a no-op update keeps the resourceVersion");
    const changed = structuredClone(created.body);
    (changed.spec as JsonObject).hosts = ["cart", "cart.shop"];
    const updated = await call("PUT", `${VS}/cart`, changed);
    assert.equal(updated.status, 200);
    assert.ok(Number(meta(updated.body).resourceVersion) > Number(rv1));
    assert.equal(meta(updated.body).generation, 2);
    const stale = await call("PUT", `${VS}/cart`, changed);
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, "Conflict");
    assert.match(stale.body.message as string, /the object has been modified/);
    const { resourceVersion: _rv, ...noRv } = meta(changed);
    const missing = await call("PUT", `${VS}/cart`, { ...changed, metadata: noRv });
    assert.equal(missing.status, 422);
  });

  it("requires the apply content type and a fieldManager for server-side apply", async () => {
    const body = vs("owned", [{ name: "meshloop" }]);
    const merge = await call("PATCH", `${VS}/owned?fieldManager=meshloop`, body, "application/merge-patch+json");
    assert.equal(merge.status, 415);
    const noManager = await call("PATCH", `${VS}/owned`, body, APPLY_PATCH);
    assert.equal(noManager.status, 422);
    assert.match(noManager.body.message as string, /fieldManager: Required value/);
    const ok = await call("PATCH", `${VS}/owned?fieldManager=meshloop&force=false`, body, APPLY_PATCH);
    assert.equal(ok.status, 200);
    const entry = meta(ok.body).managedFields.find((m) => m.manager === "meshloop");
    assert.equal(entry?.operation, "Apply");
    assert.deepEqual(entry?.fieldsV1, { "f:spec": { "f:hosts": {}, "f:http": {} } });
  });

  it("answers 409 FieldManagerConflict when applying a field another manager owns, and takes it over with force", async () => {
    await call("POST", VS, vs("cart", [{ name: "user" }]));
    const body = vs("cart", [{ name: "meshloop" }]);
    const conflict = await call("PATCH", `${VS}/cart?fieldManager=meshloop&force=false`, body, APPLY_PATCH);
    assert.equal(conflict.status, 409);
    const causes = (conflict.body.details as JsonObject).causes as JsonObject[];
    assert.deepEqual(causes.map((c) => [c.type, c.field]), [["FieldManagerConflict", ".spec.http"]]);
    assert.match(conflict.body.message as string, /conflict with "kubectl-edit"/);
    // The same value is shared ownership, not a conflict.
    const shared = await call("PATCH", `${VS}/cart?fieldManager=meshloop`, { ...body, spec: { hosts: ["cart"] } }, APPLY_PATCH);
    assert.equal(shared.status, 200);
    const forced = await call("PATCH", `${VS}/cart?fieldManager=meshloop&force=true`, body, APPLY_PATCH);
    assert.equal(forced.status, 200);
    const managers = meta(forced.body).managedFields.map((m) => [m.manager, Object.keys((m.fieldsV1 as JsonObject)["f:spec"] as JsonObject)]);
    assert.deepEqual(managers, [["kubectl-edit", ["f:hosts"]], ["meshloop", ["f:hosts", "f:http"]]]);
  });

  it("removes fields a manager applied before and omits now, keeping other managers' map keys", async () => {
    const service = { apiVersion: "v1", kind: "Service", metadata: { name: "cart", namespace: "shop", annotations: { "team": "a" } }, spec: { selector: { app: "cart" } } };
    emulator.seed(service);
    const apply = (annotations: Record<string, string>) =>
      call("PATCH", "/api/v1/namespaces/shop/services/cart?fieldManager=meshloop", { apiVersion: "v1", kind: "Service", metadata: { name: "cart", namespace: "shop", annotations } }, APPLY_PATCH);
    await apply({ "retry.linkerd.io/limit": "2", "timeout.linkerd.io/request": "1s" });
    const r = await apply({ "retry.linkerd.io/limit": "3" });
    assert.deepEqual(meta(r.body).annotations, { team: "a", "retry.linkerd.io/limit": "3" });
    assert.deepEqual((r.body.spec as JsonObject).selector, { app: "cart" });
  });

  it("an emptied annotations or labels map releases every key the manager owned there, as the API server does", async () => {
    emulator.seed({ apiVersion: "v1", kind: "Service", metadata: { name: "basket", namespace: "shop", annotations: { team: "a" } }, spec: { selector: { app: "basket" } } });
    const path = "/api/v1/namespaces/shop/services/basket";
    const apply = (manager: string, metadata: JsonObject) =>
      call("PATCH", `${path}?fieldManager=${manager}`, { apiVersion: "v1", kind: "Service", metadata: { name: "basket", namespace: "shop", ...metadata } }, APPLY_PATCH);
    const owned = (body: JsonObject, manager: string) => {
      const entry = meta(body).managedFields.find((m) => m.manager === manager && m.operation === "Apply");
      return entry === undefined ? null : (entry.fieldsV1 as JsonObject)["f:metadata"];
    };
    const first = await apply("meshloop", { annotations: { "retry.linkerd.io/limit": "3", "timeout.linkerd.io/request": "1s" }, labels: { tier: "web" } });
    assert.equal(first.status, 200);
    assert.deepEqual(owned(first.body, "meshloop"), { "f:annotations": { "f:retry.linkerd.io/limit": {}, "f:timeout.linkerd.io/request": {} }, "f:labels": { "f:tier": {} } });

    const emptied = await apply("meshloop", { annotations: {}, labels: {} });
    assert.equal(emptied.status, 200);
    assert.deepEqual(meta(emptied.body).annotations, { team: "a" }, "meshloop's keys go, the other manager's key stays");
    assert.equal(meta(emptied.body).labels, undefined, "an emptied labels map is not stored");
    assert.equal(owned(emptied.body, "meshloop"), null, "meshloop owns nothing of the Service any more");

    // Released: another manager may now set those keys without a conflict, and meshloop's next apply leaves them be.
    const taken = await apply("helm", { annotations: { "retry.linkerd.io/limit": "5" } });
    assert.equal(taken.status, 200, JSON.stringify(taken.body));
    const again = await apply("meshloop", { annotations: {} });
    assert.equal(again.status, 200);
    assert.deepEqual(meta(again.body).annotations, { team: "a", "retry.linkerd.io/limit": "5" });
  });

  it("dryRun=All validates and answers without storing; a validator's rejection is a 422", async () => {
    const dry = await call("PATCH", `${VS}/gone?fieldManager=meshloop&dryRun=All`, vs("gone", [{ name: "meshloop" }]), APPLY_PATCH);
    assert.equal(dry.status, 200);
    assert.equal(emulator.object("networking.istio.io/v1", "VirtualService", "shop", "gone"), null);
    const remove = emulator.addValidator((o) => (((o.spec as JsonObject).hosts as string[]).includes("bad") ? "spec.hosts: Invalid value: bad" : null));
    try {
      const rejected = await call("PATCH", `${VS}/gone?fieldManager=meshloop&dryRun=All`, { ...vs("gone", []), spec: { hosts: ["bad"] } }, APPLY_PATCH);
      assert.equal(rejected.status, 422);
      assert.equal(rejected.body.reason, "Invalid");
      assert.match(rejected.body.message as string, /VirtualService.networking.istio.io "gone" is invalid: spec.hosts/);
    } finally {
      remove();
    }
    const bad = await call("PATCH", `${VS}/gone?fieldManager=meshloop&dryRun=Some`, vs("gone", []), APPLY_PATCH);
    assert.equal(bad.status, 400);
  });

  it("lists with a label selector, leaving out apiVersion and kind of built-in items only", async () => {
    for (const [name, version] of [["cart-v1", "v1"], ["cart-v2", "v2"], ["other", "v1"]] as const) {
      emulator.seed({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: "list", labels: { app: name.startsWith("cart") ? "cart" : "other", version } }, spec: { replicas: 1 } });
    }
    const r = await call("GET", "/apis/apps/v1/namespaces/list/deployments?labelSelector=" + encodeURIComponent("app=cart,version in (v2,v3)"));
    const items = r.body.items as JsonObject[];
    assert.deepEqual(items.map((i) => meta(i).name), ["cart-v2"]);
    assert.equal(items[0]!.kind, undefined);
    assert.equal(r.body.kind, "DeploymentList");
    emulator.seed(vs("cart", []));
    const crds = await call("GET", VS);
    assert.equal((crds.body.items as JsonObject[])[0]!.kind, "VirtualService");
  });

  it("serves the scale subresource of Deployments, recording the manager on it", async () => {
    emulator.seed({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "scale" }, spec: { replicas: 2, selector: { matchLabels: { app: "web" } } } });
    const path = "/apis/apps/v1/namespaces/scale/deployments/web/scale";
    const got = await call("GET", path);
    assert.equal(got.body.kind, "Scale");
    assert.deepEqual(got.body.spec, { replicas: 2 });
    assert.equal(((got.body.status as JsonObject).selector), "app=web");
    const applyType = await call("PATCH", `${path}?fieldManager=meshloop`, { spec: { replicas: 5 } }, APPLY_PATCH);
    assert.equal(applyType.status, 415);
    const dry = await call("PATCH", `${path}?fieldManager=meshloop&dryRun=All`, { spec: { replicas: 5 } }, MERGE_PATCH);
    assert.deepEqual(dry.body.spec, { replicas: 5 });
    assert.equal((emulator.object("apps/v1", "Deployment", "scale", "web")!.spec as JsonObject).replicas, 2);
    const patched = await call("PATCH", `${path}?fieldManager=meshloop`, { spec: { replicas: 5 } }, MERGE_PATCH);
    assert.deepEqual(patched.body.spec, { replicas: 5 });
    const deployment = emulator.object("apps/v1", "Deployment", "scale", "web")!;
    assert.equal((deployment.spec as JsonObject).replicas, 5);
    const entry = meta(deployment).managedFields.find((m) => m.manager === "meshloop");
    assert.equal(entry?.subresource, "scale");
    const negative = await call("PATCH", path + "?fieldManager=meshloop", { spec: { replicas: -1 } }, MERGE_PATCH);
    assert.equal(negative.status, 422);
    const svc = await call("GET", "/api/v1/namespaces/scale/services/web/scale");
    assert.equal(svc.status, 404);
  });

  it("deletes (honouring dryRun and a resourceVersion precondition) and answers 404 after", async () => {
    const created = emulator.seed(vs("gone", []));
    const dry = await call("DELETE", `${VS}/gone?dryRun=All`);
    assert.equal(dry.status, 200);
    assert.notEqual(emulator.object("networking.istio.io/v1", "VirtualService", "shop", "gone"), null);
    const stale = await call("DELETE", `${VS}/gone`, { preconditions: { resourceVersion: "1" } });
    assert.equal(stale.status, 409);
    const ok = await call("DELETE", `${VS}/gone`, { preconditions: { resourceVersion: meta(created).resourceVersion } });
    assert.equal(ok.body.status, "Success");
    assert.equal((await call("DELETE", `${VS}/gone`)).status, 404);
  });

  it("injects transient failures through a hook, then answers normally", async () => {
    emulator.failNext(2, { status: 429, retryAfterSeconds: 1 }, (r) => r.method === "GET");
    const first = await call("GET", `${VS}/cart`);
    assert.equal(first.status, 429);
    assert.equal(first.headers.get("retry-after"), "1");
    assert.equal((await call("GET", `${VS}/cart`)).status, 429);
    assert.equal((await call("GET", `${VS}/cart`)).status, 404);
    emulator.failNext(1, { status: 500 });
    const failed = await call("GET", `${VS}/cart`);
    assert.equal(failed.status, 500);
    assert.equal(failed.body.reason, "InternalError");
  });

  it("rejects a body whose identity does not match the URL", async () => {
    const r = await call("PATCH", `${VS}/cart?fieldManager=meshloop`, vs("other", []), APPLY_PATCH);
    assert.equal(r.status, 400);
    assert.match(r.body.message as string, /does not match the name on the URL/);
    const wrongVersion = await call("PATCH", `${VS}/cart?fieldManager=meshloop`, { ...vs("cart", []), apiVersion: "networking.istio.io/v1beta1" }, APPLY_PATCH);
    assert.equal(wrongVersion.status, 400);
  });

  it("serves discovery for a group version", async () => {
    const r = await call("GET", "/apis/apps/v1");
    const names = (r.body.resources as JsonObject[]).map((x) => x.name);
    assert.ok(names.includes("deployments") && names.includes("deployments/scale"));
  });
});
