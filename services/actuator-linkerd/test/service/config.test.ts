import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "@meshloop/errors";
import { describeConfig, loadConfig } from "@meshloop/runtime";
import { z } from "zod";
import { linkerdActuatorConfig, linkerdActuatorSettings } from "../../src/service/index.ts";

const BASE = { MESHLOOP_BUS: "memory", MESHLOOP_STORE: "memory" };

test("defaults: the API in-cluster, port 9105, TLS verified, cluster.local, no allow lists from observation, no GitOps folder", () => {
  const config = loadConfig(linkerdActuatorConfig, { env: BASE });
  assert.equal(config.MESHLOOP_HTTP_PORT, 9105);
  assert.equal(config.MESHLOOP_ACTUATOR_MODE, "apply");
  assert.equal(config.MESHLOOP_KUBE_INSECURE_SKIP_TLS_VERIFY, false);
  assert.equal(config.MESHLOOP_CLUSTER_DOMAIN, "cluster.local");
  assert.equal(config.MESHLOOP_LINKERD_TRUST_DOMAIN, "cluster.local");
  assert.equal(config.MESHLOOP_LINKERD_ALLOW_LIST_FROM_OBSERVED_CALLERS, false);
  for (const name of ["MESHLOOP_KUBE_API_URL", "MESHLOOP_KUBE_TOKEN_FILE", "MESHLOOP_KUBE_CA_FILE", "MESHLOOP_ACTUATOR_GITOPS_DIR", "MESHLOOP_LINKERD_GITOPS_SERVICE_PORT"] as const) {
    assert.equal(config[name], undefined, name);
  }
});

test("every Linkerd and Kubernetes setting is read as given", () => {
  const config = loadConfig(linkerdActuatorConfig, {
    env: {
      ...BASE,
      MESHLOOP_KUBE_API_URL: "https://10.0.0.1:6443",
      MESHLOOP_KUBE_TOKEN_FILE: "/var/run/token",
      MESHLOOP_KUBE_CA_FILE: "/etc/ca.crt",
      MESHLOOP_KUBE_INSECURE_SKIP_TLS_VERIFY: "true",
      MESHLOOP_ACTUATOR_GITOPS_DIR: "/srv/gitops",
      MESHLOOP_LINKERD_GITOPS_SERVICE_PORT: "8080",
      MESHLOOP_CLUSTER_DOMAIN: "corp.internal",
      MESHLOOP_LINKERD_TRUST_DOMAIN: "mesh.example.org",
      MESHLOOP_LINKERD_ALLOW_LIST_FROM_OBSERVED_CALLERS: "yes",
    },
  });
  assert.deepEqual(
    [
      config.MESHLOOP_KUBE_API_URL,
      config.MESHLOOP_KUBE_TOKEN_FILE,
      config.MESHLOOP_KUBE_CA_FILE,
      config.MESHLOOP_KUBE_INSECURE_SKIP_TLS_VERIFY,
      config.MESHLOOP_ACTUATOR_GITOPS_DIR,
      config.MESHLOOP_LINKERD_GITOPS_SERVICE_PORT,
      config.MESHLOOP_CLUSTER_DOMAIN,
      config.MESHLOOP_LINKERD_TRUST_DOMAIN,
      config.MESHLOOP_LINKERD_ALLOW_LIST_FROM_OBSERVED_CALLERS,
    ],
    ["https://10.0.0.1:6443", "/var/run/token", "/etc/ca.crt", true, "/srv/gitops", 8080, "corp.internal", "mesh.example.org", true],
  );
});

test("an API URL without a scheme and a port out of range are refused, each named", () => {
  assert.throws(
    () => loadConfig(linkerdActuatorConfig, { env: { ...BASE, MESHLOOP_KUBE_API_URL: "10.0.0.1:6443", MESHLOOP_LINKERD_GITOPS_SERVICE_PORT: "0" } }),
    (e: unknown) => e instanceof ConfigError && /MESHLOOP_KUBE_API_URL/.test(e.message) && /MESHLOOP_LINKERD_GITOPS_SERVICE_PORT/.test(e.message),
  );
});

test("each Linkerd actuator variable is described on one line and none is required", () => {
  const rows = describeConfig(z.object(linkerdActuatorSettings));
  for (const name of ["MESHLOOP_KUBE_API_URL", "MESHLOOP_KUBE_TOKEN_FILE", "MESHLOOP_KUBE_CA_FILE", "MESHLOOP_KUBE_INSECURE_SKIP_TLS_VERIFY", "MESHLOOP_ACTUATOR_GITOPS_DIR"]) {
    assert.ok(rows.some((r) => r.variable === name), name);
  }
  for (const row of rows) {
    assert.ok(row.description.length > 10 && !row.description.includes("\n"), row.variable);
    assert.equal(row.required, false, `${row.variable} has a default or is optional`);
  }
});
