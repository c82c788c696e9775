import assert from "node:assert/strict";
import { test } from "node:test";
import { findAutoscaler, findOtherController } from "../src/index.ts";

test("each other controller is recognised by the mark it leaves", () => {
  const cases = [
    [{ ownerReferences: [{ apiVersion: "flagger.app/v1beta1", kind: "Canary", name: "checkout", controller: true }] }, "flagger"],
    [{ ownerReferences: [{ apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "checkout" }] }, "argo-rollouts"],
    [{ annotations: { "argo-rollouts.argoproj.io/managed-by-rollouts": "checkout" } }, "argo-rollouts"],
    [{ annotations: { "argocd.argoproj.io/tracking-id": "shop:networking.istio.io/VirtualService:shop/checkout" } }, "argo-cd"],
    [{ labels: { "argocd.argoproj.io/instance": "shop" } }, "argo-cd"],
    [{ managedFields: [{ manager: "argocd-controller", operation: "Apply" }] }, "argo-cd"],
    [{ labels: { "kustomize.toolkit.fluxcd.io/name": "apps" } }, "flux"],
    [{ managedFields: [{ manager: "helm-controller", operation: "Update" }] }, "flux"],
    [{ managedFields: [{ manager: "kube-controller-manager", operation: "Update", subresource: "scale" }] }, "autoscaler"],
    [{ labels: { "app.kubernetes.io/managed-by": "some-operator" } }, "other"],
    [{ ownerReferences: [{ apiVersion: "example.com/v1", kind: "Mesh", name: "m", controller: true }] }, "other"],
  ] as const;
  for (const [metadata, controller] of cases) {
    assert.equal(findOtherController(metadata)?.controller, controller, JSON.stringify(metadata));
  }
});

test("people's tools, one-shot installers and meshloop itself are not other controllers", () => {
  assert.equal(findOtherController(undefined), null);
  assert.equal(findOtherController({ labels: { "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "shop" } }), null);
  assert.equal(findOtherController({ labels: { "app.kubernetes.io/managed-by": "meshloop" } }), null);
  assert.equal(
    findOtherController({ managedFields: [{ manager: "kubectl-client-side-apply" }, { manager: "meshloop", operation: "Apply" }, { manager: "kubectl-edit" }] }),
    null,
  );
});

test("the refusal names the evidence and what to do about a GitOps tool", () => {
  const found = findOtherController({ annotations: { "argocd.argoproj.io/tracking-id": "x" } });
  assert.equal(
    found?.reason,
    "managed by Argo CD (annotation argocd.argoproj.io/tracking-id); change it in Git, or make the GitOps tool ignore meshloop's fields and allow it in meshloop's coexistence settings",
  );
});

test("operators can allow a controller they arranged to share with, and name Argo CD's tracking label", () => {
  const tracked = { annotations: { "argocd.argoproj.io/tracking-id": "x" } };
  assert.equal(findOtherController(tracked, { allow: ["argo-cd"] }), null);
  assert.equal(findOtherController({ labels: { "app.kubernetes.io/instance": "shop" } }, { argoCdLabelKeys: ["app.kubernetes.io/instance"] })?.controller, "argo-cd");
});

test("an HPA or a KEDA ScaledObject targeting the workload is found; one for another workload is not", () => {
  const workload = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "checkout" };
  const hpa = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "checkout", namespace: "shop" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "checkout" } } };
  const keda = { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: { name: "checkout-q", namespace: "shop" }, spec: { scaleTargetRef: { name: "checkout" } } };
  const other = { ...hpa, spec: { scaleTargetRef: { kind: "Deployment", name: "cart" } } };
  assert.equal(findAutoscaler(workload, [other, hpa])?.evidence, "HorizontalPodAutoscaler checkout targets Deployment checkout");
  assert.equal(findAutoscaler(workload, [keda])?.evidence, "ScaledObject checkout-q targets Deployment checkout");
  assert.equal(findAutoscaler(workload, [other]), null);
  assert.equal(findAutoscaler({ ...workload, kind: "StatefulSet" }, [keda]), null, "KEDA's default target kind is Deployment");
});
