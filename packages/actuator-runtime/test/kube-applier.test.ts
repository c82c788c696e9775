// KubeApplier against the kube emulator when one part of a decision cannot be carried out: the other parts are
// written, the result lists exactly what was and was not, it is never `applied`, and the next decision reconciles.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { emptyTranslation } from "@meshloop/actuator-kit";
import type { KubeObject, Translation } from "@meshloop/actuator-kit";
import { emptyDesiredState } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import { KubeClient } from "@meshloop/kube-client";
import type { KubeClient as Client } from "@meshloop/kube-client";
import { KubeEmulator } from "@meshloop/kube-emulator";
import { KubeApplier } from "../src/index.ts";
import type { ApplyOutcome } from "../src/index.ts";

interface Context {
  blocked: boolean;
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const RETRIES = { attempts: 2, perTryTimeoutMs: 100, retryOn: ["5xx" as const], retriableStatusCodes: [], budget: null };

function configMap(namespace: string, name: string, data: Record<string, string>): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "meshloop" } }, data };
}

/** Reads whether the user's `checkout-blocker` ConfigMap exists: it stands in for a ServiceProfile that silences routes. */
async function read(target: TargetRef, kube: Client): Promise<Context> {
  return { blocked: (await kube.get({ apiVersion: "v1", kind: "ConfigMap", namespace: target.namespace, name: "checkout-blocker" })) !== null };
}

/** Weights and retries as one ConfigMap each; the blocker fails the weights part only. */
function translate(desired: DesiredState, context: Context): Translation {
  const out = emptyTranslation();
  const { namespace } = desired.target;
  if (desired.weights !== null) {
    const name = "checkout-weights";
    if (context.blocked) out.failed.push({ capabilities: ["weights"], reason: "ConfigMap checkout-blocker silences routes", ref: { kind: "ConfigMap", name, namespace } });
    else out.resources.push({ action: "apply", object: configMap(namespace, name, Object.fromEntries(Object.entries(desired.weights).map(([k, v]) => [k, String(v)]))) });
  }
  if (desired.retries !== null) out.resources.push({ action: "apply", object: configMap(namespace, "checkout-retries", { attempts: String(desired.retries.attempts) }) });
  if (desired.requestTimeoutMs !== null) out.failed.push({ capabilities: ["requestTimeout"], reason: "no timeout field in this mesh's version" });
  return out;
}

describe("KubeApplier with a part that cannot be carried out", () => {
  const emulator = new KubeEmulator();
  let kube: KubeClient;
  let applier: KubeApplier<Context>;
  let namespaces = 0;

  before(async () => {
    kube = new KubeClient({ baseUrl: await emulator.start() });
    applier = new KubeApplier<Context>({ mesh: "istio", kube, read, translate });
  });
  after(() => emulator.stop());

  const target = (): TargetRef => ({ mesh: "istio", namespace: `ns-${++namespaces}`, service: "checkout" });
  const decision = (on: TargetRef, generation: number, parts: Partial<Omit<DesiredState, "target">>): Decision => ({
    decisionId: `istio/${on.namespace}/checkout@${generation}`,
    target: on,
    generation,
    desiredState: { ...emptyDesiredState(on), ...parts },
    controllers: ["canary"],
    reason: "test",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 0,
    createdAt: new Date(0).toISOString(),
  });
  const apply = (d: Decision, mode: "apply" | "dry-run" = "apply"): Promise<ApplyOutcome> => applier.apply(d, { mode, signal: new AbortController().signal });
  const stored = (namespace: string, name: string) => emulator.object("v1", "ConfigMap", namespace, name) as ConfigMap | null;

  it("writes the parts that can be written, lists the blocked one as failed, and reports failed naming it", async () => {
    const on = target();
    emulator.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "checkout-blocker", namespace: on.namespace } });
    const outcome = await apply(decision(on, 1, { weights: { v1: 90, v2: 10 }, retries: RETRIES }));
    assert.equal(outcome.status, "failed");
    assert.match(outcome.reason, /^weights failed: ConfigMap checkout-blocker silences routes; the other parts written: ConfigMap ns-\d+\/checkout-retries$/);
    assert.deepEqual(outcome.resources.map((r) => [r.kind, r.name, r.status]), [["ConfigMap", "checkout-retries", "applied"], ["ConfigMap", "checkout-weights", "failed"]]);
    assert.equal(outcome.resources[1]!.message, "weights not written: ConfigMap checkout-blocker silences routes");
    assert.equal(outcome.resources[1]!.namespace, on.namespace);
    assert.equal(outcome.appliedAt, undefined);
    assert.deepEqual(stored(on.namespace, "checkout-retries")?.data, { attempts: "2" }, "the retries part is in the cluster");
    assert.equal(stored(on.namespace, "checkout-weights"), null, "the blocked part wrote nothing");

    // The blocker gone, the next decision (a full desired state) reconciles: the weights are written, the retries kept.
    await kube.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: on.namespace, name: "checkout-blocker" });
    const next = await apply(decision(on, 2, { weights: { v1: 90, v2: 10 }, retries: RETRIES }));
    assert.equal(next.status, "applied", next.reason);
    assert.deepEqual(next.resources.map((r) => [r.name, r.status]), [["checkout-weights", "applied"], ["checkout-retries", "unchanged"]]);
    assert.deepEqual(stored(on.namespace, "checkout-weights")?.data, { v1: "90", v2: "10" });
  });

  it("a part failed with nothing to name is listed as the part; with nothing else to write the reason says so", async () => {
    const on = target();
    const outcome = await apply(decision(on, 1, { requestTimeoutMs: 500 }));
    assert.equal(outcome.status, "failed");
    assert.equal(outcome.reason, "requestTimeout failed: no timeout field in this mesh's version; nothing else to write");
    assert.deepEqual(outcome.resources, [{ kind: "part", name: "requestTimeout", status: "failed", message: "requestTimeout not written: no timeout field in this mesh's version" }]);
  });

  it("in a dry run the other parts are checked, nothing is written, and the failed part still fails the result", async () => {
    const on = target();
    emulator.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "checkout-blocker", namespace: on.namespace } });
    const outcome = await apply(decision(on, 1, { weights: { v1: 50, v2: 50 }, retries: RETRIES }), "dry-run");
    assert.equal(outcome.status, "failed");
    assert.match(outcome.reason, /^weights failed: .*; dry run of the other parts$/);
    assert.deepEqual(outcome.resources.map((r) => [r.name, r.status]), [["checkout-retries", "skipped"], ["checkout-weights", "failed"]]);
    assert.equal(stored(on.namespace, "checkout-retries"), null);
  });

  it("a write the API server rejects is failed along with the translation's failures, and the writes before it stay", async () => {
    const on = target();
    const remove = emulator.addValidator((o, { dryRun }) => (!dryRun && (o.metadata as { name?: string }).name === "checkout-retries" ? "data: Invalid value: quota exceeded" : null));
    try {
      const outcome = await apply(decision(on, 1, { weights: { v1: 100 }, retries: RETRIES, requestTimeoutMs: 500 }));
      assert.equal(outcome.status, "failed");
      assert.match(outcome.reason, /^requestTimeout failed: no timeout field .*; apply of ConfigMap ns-\d+\/checkout-retries failed: 422 Invalid: .*quota exceeded; the other parts written: ConfigMap ns-\d+\/checkout-weights$/);
      assert.deepEqual(outcome.resources.map((r) => [r.name, r.status]), [["checkout-weights", "applied"], ["checkout-retries", "failed"], ["requestTimeout", "failed"]]);
      assert.notEqual(stored(on.namespace, "checkout-weights"), null);
    } finally {
      remove();
    }
  });
});
