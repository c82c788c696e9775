// Reversibility against the emulated kube-apiserver: meshloop's record of a user's VirtualService and DestinationRule
// rides in the resourceVersion-checked update that changes them, and a release puts them back.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { KubeApplier } from "@meshloop/actuator-runtime";
import type { ApplyOutcome } from "@meshloop/actuator-runtime";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import { KubeClient } from "@meshloop/kube-client";
import { KubeEmulator } from "@meshloop/kube-emulator";
import type { JsonObject } from "@meshloop/kube-emulator";
import { ORIGINAL_ANNOTATION, translateIstio } from "../../src/index.ts";
import type { IstioContext } from "../../src/index.ts";
import { readIstioContext } from "../../src/read-context.ts";

const API = "networking.istio.io/v1";
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
  target = { mesh: "istio", namespace: `release${++n}`, service: "checkout" };
  emulator.seed({ apiVersion: "v1", kind: "Service", metadata: { name: "checkout", namespace: target.namespace }, spec: { selector: { app: "checkout" }, ports: [{ port: 80 }] } });
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

const apply = (d: Decision): Promise<ApplyOutcome> => applier.apply(d, { mode: "apply", signal: new AbortController().signal });
const get = (kind: string) => emulator.object(API, kind, target.namespace, "checkout") as (JsonObject & { metadata: { annotations?: Record<string, string>; resourceVersion: string }; spec: unknown }) | null;

function seedUserObjects(): { vsSpec: unknown; drSpec: unknown } {
  const vsSpec = {
    hosts: ["checkout"],
    http: [
      { name: "admin", match: [{ uri: { prefix: "/admin" } }], route: [{ destination: { host: "checkout" } }] },
      { route: [{ destination: { host: "checkout", port: { number: 80 } } }], retries: { attempts: 1 } },
    ],
  };
  const drSpec = { host: "checkout", subsets: [{ name: "stable", labels: { track: "stable" } }] };
  emulator.seed({ apiVersion: API, kind: "VirtualService", metadata: { name: "checkout", namespace: target.namespace, annotations: { "team.example/owner": "payments" } }, spec: vsSpec }, "kubectl-client-side-apply");
  emulator.seed({ apiVersion: API, kind: "DestinationRule", metadata: { name: "checkout", namespace: target.namespace }, spec: drSpec }, "kubectl-client-side-apply");
  return { vsSpec: structuredClone(vsSpec), drSpec: structuredClone(drSpec) };
}

test("merged, merged again, released: the user's objects are as they were, their records gone", async () => {
  const { vsSpec, drSpec } = seedUserObjects();
  const puts: string[] = [];
  const off = emulator.onRequest((r) => {
    if (r.method === "PUT" && r.query.dryRun === undefined) puts.push(r.path);
    return undefined;
  });
  try {
    const first = await apply(decide({ weights: { v1: 80, v2: 20 }, requestTimeoutMs: 1500 }));
    assert.equal(first.status, "applied", first.reason);
    const record = get("VirtualService")!.metadata.annotations?.[ORIGINAL_ANNOTATION];
    assert.ok(record !== undefined, "the record is written with the change");
    assert.deepEqual(originalsOf(record)["spec.http[catch-all].route"], [{ destination: { host: "checkout", port: { number: 80 } } }]);
    assert.ok(get("DestinationRule")!.metadata.annotations?.[ORIGINAL_ANNOTATION] !== undefined);

    const second = await apply(decide({ weights: { v1: 50, v2: 50 }, requestTimeoutMs: 1500 }));
    assert.equal(second.status, "applied", second.reason);
    const secondRecord = get("VirtualService")!.metadata.annotations![ORIGINAL_ANNOTATION]!;
    assert.deepEqual(originalsOf(secondRecord), originalsOf(record), "the second merge kept the first record's originals");

    const released = await apply(decide({}));
    assert.equal(released.status, "applied", released.reason);
    assert.deepEqual(released.resources.map((r) => [r.kind, r.status]), [["VirtualService", "applied"], ["DestinationRule", "applied"]]);
  } finally {
    off();
  }
  assert.ok(puts.length >= 5 && puts.every((p) => p.endsWith("/checkout")), `updates of the user's objects by PUT: ${puts.join(", ")}`);
  const vs = get("VirtualService")!;
  assert.deepEqual(vs.spec, vsSpec);
  assert.deepEqual(vs.metadata.annotations, { "team.example/owner": "payments" }, "the record is gone, the user's annotation stays");
  const dr = get("DestinationRule")!;
  assert.deepEqual(dr.spec, drSpec);
  assert.equal(dr.metadata.annotations, undefined);
  // A second release finds nothing to undo.
  const again = await apply(decide({}));
  assert.equal(again.status, "applied", again.reason);
  assert.deepEqual(again.resources, []);
});

test("a user's change since meshloop's write is kept on release, and the result says so", async () => {
  const { vsSpec } = seedUserObjects();
  assert.equal((await apply(decide({ weights: { v1: 80, v2: 20 }, requestTimeoutMs: 1500 }))).status, "applied");
  emulator.edit(API, "VirtualService", target.namespace, "checkout", (o) => {
    ((o.spec as { http: { timeout?: string }[] }).http[1]!).timeout = "9s";
  });
  const released = await apply(decide({}));
  assert.equal(released.status, "applied", released.reason);
  assert.match(released.reason, /VirtualService release\d+\/checkout: spec\.http\[catch-all\]\.timeout changed since meshloop wrote it; kept as changed/);
  const expected = structuredClone(vsSpec) as { http: { timeout?: string }[] };
  expected.http[1]!.timeout = "9s";
  const vs = get("VirtualService")!;
  assert.deepEqual(vs.spec, expected, "the routes are the user's again, with their new timeout");
  assert.equal(vs.metadata.annotations?.[ORIGINAL_ANNOTATION], undefined);
});

test("another writer between the read and the release: the 409 makes it read again, and both changes survive", async () => {
  const { vsSpec } = seedUserObjects();
  assert.equal((await apply(decide({ requestTimeoutMs: 800 }))).status, "applied");
  let edited = false;
  const off = emulator.onRequest((r) => {
    if (!edited && r.method === "PUT" && r.path.endsWith("/virtualservices/checkout") && r.query.dryRun === undefined) {
      edited = true;
      emulator.edit(API, "VirtualService", target.namespace, "checkout", (o) => {
        (o.metadata as { labels?: Record<string, string> }).labels = { team: "payments" };
      });
    }
    return undefined;
  });
  try {
    const released = await apply(decide({}));
    assert.equal(released.status, "applied", released.reason);
  } finally {
    off();
  }
  assert.ok(edited);
  const vs = get("VirtualService")! as { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: unknown };
  assert.deepEqual(vs.metadata.labels, { team: "payments" });
  assert.deepEqual(vs.spec, vsSpec);
  assert.equal(vs.metadata.annotations?.[ORIGINAL_ANNOTATION], undefined);
});

function originalsOf(text: string): Record<string, unknown> {
  const fields = (JSON.parse(text) as { fields: Record<string, { original?: unknown }> }).fields;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.original]));
}
