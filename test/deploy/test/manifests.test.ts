// Every object under infra/k8s, validated as the API server would (kubernetes-models' JSON schemas), and the rules
// the manifests promise checked one by one.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ClusterRole, ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";

const dir = new URL("../../../infra/k8s/", import.meta.url);

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

interface PodSpec {
  securityContext: { runAsNonRoot?: boolean };
  containers: Array<{
    readinessProbe: { httpGet: { path: string } };
    livenessProbe: { httpGet: { path: string } };
    resources: { requests: { cpu?: string; memory?: string }; limits: { cpu?: string; memory?: string } };
    securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  }>;
}

type Validating = new (data: never) => { validate(): void };
const MODELS: Record<string, Validating> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

const files = readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort();
const objects: Array<KubeObject & { file: string }> = files.flatMap((file) =>
  parseAllDocuments(readFileSync(new URL(file, dir), "utf8")).map((doc) => {
    assert.equal(doc.errors.length, 0, `${file}: ${doc.errors[0]?.message}`);
    return { ...(doc.toJS() as KubeObject), file };
  }),
);
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);

test("every object is valid for its kind, and the kustomization lists every file", () => {
  assert.ok(objects.length > 20, `${objects.length} objects`);
  for (const object of objects) {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    assert.ok(Model, `${object.file}: no model for ${object.apiVersion} ${object.kind}`);
    const { file, ...data } = object;
    assert.doesNotThrow(() => new Model(data as never).validate(), `${file}: ${object.kind} ${object.metadata.name}`);
  }
  const kustomization = readFileSync(new URL("kustomization.yaml", dir), "utf8");
  for (const file of files) assert.match(kustomization, new RegExp(`- ${file.replace(".", "\\.")}`), `${file} in kustomization.yaml`);
});

test("a broken object is caught (the validation is not a formality)", () => {
  const broken = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { replicas: "two", selector: {}, template: {} } };
  assert.throws(() => new Deployment(broken as never).validate());
});

test("every Deployment: probes on /readyz and /healthz, requests and limits, non-root, read-only, a disruption budget", () => {
  const deployments = ofKind("Deployment");
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ["actuator-consul", "actuator-istio", "actuator-linkerd", "aggregator", "console", "decision", "ingest"]);
  for (const d of deployments) {
    const pod = (d.spec!["template"] as { spec: PodSpec }).spec;
    const container = pod.containers[0]!;
    assert.equal(container.readinessProbe.httpGet.path, "/readyz", d.metadata.name);
    assert.equal(container.livenessProbe.httpGet.path, "/healthz", d.metadata.name);
    for (const amounts of [container.resources.requests, container.resources.limits]) {
      assert.ok(amounts.cpu !== undefined && amounts.memory !== undefined, `${d.metadata.name}: cpu and memory requests and limits`);
    }
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    const labels = (d.spec!["selector"] as { matchLabels: Record<string, string> }).matchLabels;
    const budget = ofKind("PodDisruptionBudget").find((p) => JSON.stringify((p.spec!["selector"] as { matchLabels: unknown }).matchLabels) === JSON.stringify(labels));
    assert.ok(budget, `a PodDisruptionBudget for ${d.metadata.name}`);
  }
});

test("only the stateless ingest has an HPA (consumer-group services are sized to partitions)", () => {
  const targets = ofKind("HorizontalPodAutoscaler").map((h) => (h.spec!["scaleTargetRef"] as { name: string }).name);
  assert.deepEqual(targets, ["ingest"]);
});

test("actuator roles are least privilege: no wildcards, no secrets, delete only on meshloop's own kinds", () => {
  const roles = ofKind("ClusterRole");
  assert.deepEqual(roles.map((r) => r.metadata.name).sort(), ["meshloop-actuator-consul", "meshloop-actuator-istio", "meshloop-actuator-linkerd"]);
  for (const role of roles) {
    for (const rule of role["rules"] as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>) {
      assert.ok(![...rule.apiGroups, ...rule.resources, ...rule.verbs].includes("*"), `${role.metadata.name}: a wildcard`);
      assert.ok(!rule.resources.includes("secrets"), `${role.metadata.name}: reads secrets`);
      if (rule.resources.some((r) => ["services", "deployments", "statefulsets", "horizontalpodautoscalers"].includes(r))) {
        assert.ok(!rule.verbs.includes("delete") && !rule.verbs.includes("create"), `${role.metadata.name}: creates or deletes ${rule.resources.join(",")}`);
      }
    }
    const binding = ofKind("ClusterRoleBinding").find((b) => (b["roleRef"] as { name: string }).name === role.metadata.name);
    assert.ok(binding, `a binding for ${role.metadata.name}`);
    const [subject] = binding["subjects"] as Array<{ kind: string; name: string }>;
    assert.ok(ofKind("ServiceAccount").some((sa) => sa.metadata.name === subject!.name), `${subject!.name} exists`);
  }
});

test("network policies: default deny, OTLP only into the ingest", () => {
  const policies = ofKind("NetworkPolicy");
  const deny = policies.find((p) => p.metadata.name === "default-deny")!;
  assert.deepEqual(deny.spec!["podSelector"], {});
  assert.deepEqual(deny.spec!["policyTypes"], ["Ingress", "Egress"]);
  const otlp = policies.find((p) => p.metadata.name === "otlp-into-ingest")!;
  assert.deepEqual((otlp.spec!["podSelector"] as { matchLabels: unknown }).matchLabels, { "app.kubernetes.io/name": "ingest" });
});
