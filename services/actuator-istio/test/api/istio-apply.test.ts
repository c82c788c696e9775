// The API path against an emulated kube-apiserver with the protocol details that matter: server-side apply with
// managedFields, dryRun=All, resourceVersion preconditions and 409s, the scale subresource.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { KubeApplier } from "@meshloop/actuator-runtime";
import type { ApplyOutcome } from "@meshloop/actuator-runtime";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import { KubeClient } from "@meshloop/kube-client";
import { KubeEmulator } from "@meshloop/kube-emulator";
import type { JsonObject } from "@meshloop/kube-emulator";
import { translateIstio } from "../../src/index.ts";
import type { IstioContext } from "../../src/index.ts";
import { readIstioContext } from "../../src/read-context.ts";

const VS = "networking.istio.io/v1";
let emulator: KubeEmulator;
let applier: KubeApplier<IstioContext>;
let n = 0;
let target: TargetRef;
let generation = 0;

before(async () => {
  emulator = new KubeEmulator();
  const kube = new KubeClient({ baseUrl: await emulator.start(), retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 5 } });
  applier = new KubeApplier<IstioContext>({ mesh: "istio", kube, read: (t, client, nowMs) => readIstioContext(client, t, nowMs), translate: translateIstio });
});
after(() => emulator.stop());
beforeEach(() => {
  // A namespace per test keeps the tests apart in one emulator.
  target = { mesh: "istio", namespace: `shop${++n}`, service: "checkout" };
  const ns = target.namespace;
  emulator.seed({ apiVersion: "v1", kind: "Service", metadata: { name: "checkout", namespace: ns }, spec: { selector: { app: "checkout" }, ports: [{ port: 80 }] } });
  emulator.seed({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "checkout", namespace: ns },
    spec: { replicas: 2, selector: { matchLabels: { app: "checkout" } }, template: { metadata: { labels: { app: "checkout" } }, spec: { containers: [{ name: "app", image: "shop/checkout:1" }] } } },
  });
});

function decide(parts: Partial<Omit<DesiredState, "target">>): Decision {
  generation++;
  return {
    decisionId: `${targetKey(target)}@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), ...parts },
    controllers: ["canary"],
    reason: "test",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: generation,
    createdAt: new Date().toISOString(),
  };
}

const apply = (d: Decision, mode: "apply" | "dry-run" = "apply"): Promise<ApplyOutcome> => applier.apply(d, { mode, signal: new AbortController().signal });
const object = (kind: string, name: string) => emulator.object(kind === "AuthorizationPolicy" ? "security.istio.io/v1" : VS, kind, target.namespace, name);
const managers = (o: JsonObject | null) => ((o?.metadata as { managedFields?: { manager: string }[] } | undefined)?.managedFields ?? []).map((m) => m.manager);

test("weights on a target without routing: meshloop's own DestinationRule and VirtualService, server-side applied", async () => {
  const outcome = await apply(decide({ weights: { v1: 90, v2: 10 } }));
  assert.equal(outcome.status, "applied", outcome.reason);
  assert.deepEqual(outcome.resources.map((r) => [r.kind, r.name, r.status]), [["DestinationRule", "checkout-meshloop", "applied"], ["VirtualService", "checkout-meshloop", "applied"]]);
  const vs = object("VirtualService", "checkout-meshloop") as { spec: { http: { route: { weight: number }[] }[] } };
  assert.deepEqual(vs.spec.http[0]!.route.map((r) => r.weight), [90, 10]);
  assert.deepEqual(managers(vs as unknown as JsonObject), ["meshloop"]);
  // The same decision again changes nothing: every write answers with the same resourceVersion.
  const again = await apply(decide({ weights: { v1: 90, v2: 10 } }));
  assert.deepEqual(again.resources.map((r) => r.status), ["unchanged", "unchanged"]);
  assert.match(again.reason, /already holds the desired state/);
});

test("a user's VirtualService keeps its own routes; meshloop's route is added with a resourceVersion-checked update", async () => {
  emulator.seed(
    {
      apiVersion: VS,
      kind: "VirtualService",
      metadata: { name: "checkout", namespace: target.namespace },
      spec: { hosts: ["checkout"], http: [{ name: "admin", match: [{ uri: { prefix: "/admin" } }], route: [{ destination: { host: "checkout" } }] }, { route: [{ destination: { host: "checkout" } }] }] },
    },
    "kubectl-client-side-apply",
  );
  const outcome = await apply(decide({ weights: { v1: 80, v2: 20 } }));
  assert.equal(outcome.status, "applied", outcome.reason);
  const vs = object("VirtualService", "checkout") as { spec: { http: { name?: string; route: { weight?: number }[] }[] } };
  assert.equal(vs.spec.http[0]!.name, "admin", "the user's admin route is still first");
  assert.ok(vs.spec.http.some((h) => h.route.some((r) => r.weight === 20)), JSON.stringify(vs.spec.http));
  assert.equal(object("VirtualService", "checkout-meshloop"), null, "no second VirtualService for the same host");
});

test("another writer between meshloop's read and write: the 409 makes it read again, and both changes survive", async () => {
  emulator.seed({ apiVersion: VS, kind: "VirtualService", metadata: { name: "checkout", namespace: target.namespace }, spec: { hosts: ["checkout"], http: [{ route: [{ destination: { host: "checkout" } }] }] } }, "kubectl-client-side-apply");
  let edited = false;
  const off = emulator.onRequest((r) => {
    if (!edited && r.method === "PUT" && r.path.endsWith("/virtualservices/checkout") && r.query.dryRun === undefined) {
      edited = true;
      emulator.edit(VS, "VirtualService", target.namespace, "checkout", (o) => {
        (o.metadata as { labels?: Record<string, string> }).labels = { team: "payments" };
      });
    }
    return undefined;
  });
  try {
    const outcome = await apply(decide({ weights: { v1: 70, v2: 30 } }));
    assert.equal(outcome.status, "applied", outcome.reason);
  } finally {
    off();
  }
  assert.ok(edited);
  const vs = object("VirtualService", "checkout") as { metadata: { labels: Record<string, string> }; spec: { http: { route: { weight?: number }[] }[] } };
  assert.equal(vs.metadata.labels.team, "payments", "the other writer's change is kept");
  assert.ok(vs.spec.http.some((h) => h.route.some((r) => r.weight === 30)));
});

test("dry run: the API server checks every write and nothing is stored", async () => {
  const outcome = await apply(decide({ weights: { v1: 50, v2: 50 } }), "dry-run");
  assert.equal(outcome.status, "dry-run", outcome.reason);
  assert.equal(object("VirtualService", "checkout-meshloop"), null);
  assert.equal(object("DestinationRule", "checkout-meshloop"), null);
});

test("replicas go through the scale subresource; with an HPA on the workload they are only recommended", async () => {
  const scaled = await apply(decide({ replicas: { count: 5, mode: "apply" } }));
  assert.equal(scaled.status, "applied", scaled.reason);
  const deployment = emulator.object("apps/v1", "Deployment", target.namespace, "checkout") as { spec: { replicas: number } };
  assert.equal(deployment.spec.replicas, 5);
  emulator.seed({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "checkout", namespace: target.namespace }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "checkout" }, minReplicas: 2, maxReplicas: 10 } });
  const recommended = await apply(decide({ replicas: { count: 8, mode: "apply" } }));
  assert.match(recommended.reason, /autoscaler/);
  assert.equal((emulator.object("apps/v1", "Deployment", target.namespace, "checkout") as { spec: { replicas: number } }).spec.replicas, 5, "not fought over");
});

test("a denied caller becomes meshloop's DENY AuthorizationPolicy; a server-side rejection fails with the API's reason and writes nothing", async () => {
  const denied = await apply(decide({ deniedCallers: [{ identity: "spiffe://cluster.local/ns/tools/sa/crawler", reason: "never seen" }] }));
  assert.equal(denied.status, "applied", denied.reason);
  const policy = object("AuthorizationPolicy", "checkout-meshloop-deny") as { spec: { action: string } };
  assert.equal(policy.spec.action, "DENY");
  const off = emulator.onRequest((r) => (r.path.includes("/virtualservices/") ? { status: 422, reason: "Invalid", message: "admission webhook \"validation.istio.io\" denied the request" } : undefined));
  try {
    const rejected = await apply(decide({ weights: { v1: 60, v2: 40 } }));
    assert.equal(rejected.status, "failed");
    assert.match(rejected.reason, /validation\.istio\.io/);
    assert.equal(object("VirtualService", "checkout-meshloop"), null);
  } finally {
    off();
  }
});
