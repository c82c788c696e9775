import assert from "node:assert/strict";
import { test } from "node:test";
import { renderGitops } from "../src/index.ts";
import type { KubeWrite } from "../src/index.ts";

test("one file per resource, keys in Kubernetes' order then alphabetical, server fields dropped", () => {
  const vs = {
    kind: "VirtualService",
    spec: { http: [{ timeout: "2s", name: "meshloop", route: [{ weight: 100, destination: { subset: "v1", host: "checkout" } }] }], hosts: ["checkout"] },
    metadata: {
      resourceVersion: "17",
      uid: "1f0c",
      managedFields: [{ manager: "kubectl" }],
      labels: { b: "2", a: "1" },
      namespace: "shop",
      name: "checkout",
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
    },
    apiVersion: "networking.istio.io/v1",
    status: { observedGeneration: 3 },
  };
  const output = renderGitops([{ action: "update", object: vs }]);
  assert.deepEqual(output.deletions, []);
  assert.deepEqual(output.files, [
    {
      path: "shop/virtualservice-checkout.yaml",
      content: [
        "apiVersion: networking.istio.io/v1",
        "kind: VirtualService",
        "metadata:",
        "  name: checkout",
        "  namespace: shop",
        "  labels:",
        '    a: "1"',
        '    b: "2"',
        "spec:",
        "  hosts:",
        "    - checkout",
        "  http:",
        "    - name: meshloop",
        "      route:",
        "        - destination:",
        "            host: checkout",
        "            subset: v1",
        "          weight: 100",
        "      timeout: 2s",
        "",
      ].join("\n"),
    },
  ]);
});

test("deletions and scale patches have their own files; JSON is available too", () => {
  const writes: KubeWrite[] = [
    { action: "delete", ref: { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", namespace: "shop", name: "checkout-meshloop-deny" } },
    { action: "scale", ref: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "checkout" }, replicas: 4 },
  ];
  const output = renderGitops(writes, { format: "json" });
  assert.deepEqual(output.deletions, ["shop/authorizationpolicy-checkout-meshloop-deny.json"]);
  assert.deepEqual(output.files, [
    {
      path: "shop/deployment-checkout.replicas.json",
      content: '{\n  "apiVersion": "apps/v1",\n  "kind": "Deployment",\n  "metadata": {\n    "name": "checkout",\n    "namespace": "shop"\n  },\n  "spec": {\n    "replicas": 4\n  }\n}\n',
    },
  ]);
});

test("names that are not Kubernetes names never become paths outside the tree", () => {
  const evil = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "../../etc/passwd", namespace: "shop" } };
  assert.throws(() => renderGitops([{ action: "apply", object: evil }]), /is not a Kubernetes name/);
  const twice = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "shop" } };
  assert.throws(() => renderGitops([{ action: "apply", object: twice }, { action: "apply", object: twice }]), /two resources render to shop\/configmap-a\.yaml/);
});
