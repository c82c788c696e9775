import assert from "node:assert/strict";
import { test } from "node:test";
import { translateConsul } from "../src/index.ts";
import type { KubeObject } from "../src/index.ts";
import { context, state } from "./fixtures.ts";

const DEPLOYMENT: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "checkout", namespace: "shop" } };
const REF = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "checkout" };
const HPA = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "checkout", namespace: "shop" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "checkout" } } };

test("replicas go through the workload's scale subresource", () => {
  const result = translateConsul(state({ replicas: { count: 5, mode: "apply" } }), context({ workload: DEPLOYMENT }));
  assert.deepEqual(result.resources, [{ action: "scale", ref: REF, replicas: 5 }]);
  assert.deepEqual(result.recommendations, []);
});

test("an HPA on the workload turns replicas into a recommendation, never a write", () => {
  const result = translateConsul(state({ replicas: { count: 5, mode: "apply" } }), context({ workload: DEPLOYMENT, autoscalers: [HPA] }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.recommendations, [
    { capability: "replicas", ref: REF, replicas: 5, reason: "the replica count belongs to an autoscaler (HorizontalPodAutoscaler checkout targets Deployment checkout); published as a recommendation" },
  ]);
});

test("a decision in recommend mode is published as a recommendation", () => {
  const result = translateConsul(state({ replicas: { count: 2, mode: "recommend" } }), context({ workload: DEPLOYMENT }));
  assert.deepEqual(result.resources, []);
  assert.equal(result.recommendations[0]?.replicas, 2);
});

test("a workload Argo CD syncs is refused; no workload at all is unsupported", () => {
  const tracked = { ...DEPLOYMENT, metadata: { ...DEPLOYMENT.metadata, annotations: { "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/checkout" } } };
  const refused = translateConsul(state({ replicas: { count: 5, mode: "apply" } }), context({ workload: tracked }));
  assert.deepEqual(refused.refused.map((r) => r.capabilities), [["replicas"]]);
  const unknown = translateConsul(state({ replicas: { count: 5, mode: "apply" } }), context());
  assert.equal(unknown.unsupported[0]?.capability, "replicas");
  assert.deepEqual(unknown.resources, []);
});
