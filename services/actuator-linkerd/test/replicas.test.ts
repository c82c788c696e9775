// translateReplicas itself is tested in @meshloop/actuator-kit; this checks that the translator hands it the
// context's workload and autoscalers and that the answer lands in the Linkerd translation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { translateLinkerd } from "../src/index.ts";
import type { KubeObject } from "../src/index.ts";
import { context, state } from "./fixtures.ts";

const DEPLOYMENT: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "checkout", namespace: "shop" } };
const REF = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "checkout" };
const HPA = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "checkout", namespace: "shop" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "checkout" } } };

test("an HPA on the workload turns replicas into a recommendation, never a write", () => {
  const result = translateLinkerd(state({ replicas: { count: 5, mode: "apply" } }), context({ workload: DEPLOYMENT, autoscalers: [HPA] }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.recommendations, [
    { capability: "replicas", ref: REF, replicas: 5, reason: "the replica count belongs to an autoscaler (HorizontalPodAutoscaler checkout targets Deployment checkout); published as a recommendation" },
  ]);
});
