import assert from "node:assert/strict";
import { test } from "node:test";
import type { Replicas } from "@meshloop/contracts";
import { emptyTranslation, translateReplicas } from "../src/index.ts";
import type { Autoscaler, KubeObject, Translation } from "../src/index.ts";

const DEPLOYMENT: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "checkout", namespace: "shop" } };
const REF = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "checkout" };
const HPA = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "checkout", namespace: "shop" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "checkout" } } };

function translate(replicas: Replicas, workload: KubeObject | null, autoscalers: readonly Autoscaler[] = []): Translation {
  const out = emptyTranslation();
  translateReplicas(replicas, workload, autoscalers, undefined, out);
  return out;
}

test("replicas go through the workload's scale subresource", () => {
  const result = translate({ count: 5, mode: "apply" }, DEPLOYMENT);
  assert.deepEqual(result.resources, [{ action: "scale", ref: REF, replicas: 5 }]);
  assert.deepEqual(result.recommendations, []);
});

test("an HPA on the workload turns replicas into a recommendation, never a write", () => {
  const result = translate({ count: 5, mode: "apply" }, DEPLOYMENT, [HPA]);
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.recommendations, [
    { capability: "replicas", ref: REF, replicas: 5, reason: "the replica count belongs to an autoscaler (HorizontalPodAutoscaler checkout targets Deployment checkout); published as a recommendation" },
  ]);
});

test("a decision in recommend mode is published as a recommendation", () => {
  const result = translate({ count: 2, mode: "recommend" }, DEPLOYMENT);
  assert.deepEqual(result.resources, []);
  assert.equal(result.recommendations[0]?.replicas, 2);
});

test("a workload Argo CD syncs is refused; no workload at all is unsupported", () => {
  const tracked = { ...DEPLOYMENT, metadata: { ...DEPLOYMENT.metadata, annotations: { "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/checkout" } } };
  const refused = translate({ count: 5, mode: "apply" }, tracked);
  assert.deepEqual(refused.refused.map((r) => r.capabilities), [["replicas"]]);
  const unknown = translate({ count: 5, mode: "apply" }, null);
  assert.equal(unknown.unsupported[0]?.capability, "replicas");
  assert.deepEqual(unknown.resources, []);
});
