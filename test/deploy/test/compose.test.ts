// infra/docker-compose.yml cannot be run here (no Docker engine); what can be checked without it is.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { loadPolicies } from "@meshloop/decision";

const infra = new URL("../../../infra/", import.meta.url);
const root = new URL("../../../", import.meta.url);

interface ComposeService {
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  environment?: Record<string, string>;
  volumes?: string[];
}

test("every meshloop service in the compose file builds from the shared Dockerfile with an entry point that exists", () => {
  const compose = parse(readFileSync(new URL("docker-compose.yml", infra), "utf8"), { merge: true }) as { services: Record<string, ComposeService> };
  const built = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
  assert.deepEqual(built.map(([name]) => name).sort(), ["actuator-consul", "actuator-istio", "actuator-linkerd", "aggregator", "console", "decision", "ingest"]);
  for (const [name, service] of built) {
    const { args, dockerfile } = service.build!;
    assert.ok(existsSync(new URL(dockerfile, root)), `${name}: ${dockerfile}`);
    assert.equal(args["SERVICE"], name);
    assert.ok(existsSync(new URL(`services/${name}/${args["MAIN"]}`, root)), `${name}: services/${name}/${args["MAIN"]}`);
    assert.equal(service.environment?.["MESHLOOP_KAFKA_BROKERS"], "kafka:19092", `${name} reaches Kafka on its internal listener`);
    for (const volume of service.volumes ?? []) {
      const source = volume.split(":")[0]!;
      if (source.endsWith(".yaml")) assert.ok(existsSync(new URL(source, infra)), `${name}: ${source}`);
    }
  }
});

test("the example policies and the policies in the Kubernetes ConfigMap load as the decision service loads them", () => {
  assert.ok(loadPolicies(readFileSync(new URL("policies.example.yaml", infra), "utf8"), "policies.example.yaml").length > 0);
  const config = parseAllDocuments(readFileSync(new URL("k8s/config.yaml", infra), "utf8")).map((d) => d.toJS() as { metadata: { name: string }; data?: Record<string, string> });
  const policies = config.find((o) => o.metadata.name === "meshloop-policies")!.data!["policies.yaml"]!;
  assert.ok(loadPolicies(policies, "meshloop-policies").length > 0);
});
