// The Istio actuator as a service on the real Kafka and Redis, in its GitOps output: a decision in, Istio resources
// written as files (validated by @kubernetes-models/istio through the translation), the result on the actuations topic.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import type { Bus, Consumer } from "@meshloop/bus";
import { createKafkaBus } from "@meshloop/bus";
import { emptyDesiredState, fromCloudEventMessage, targetKey, toCloudEventMessage, topicNames } from "@meshloop/contracts";
import type { ActuationResult, Decision, TargetRef } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, eventually, serviceEnv, uniqueName } from "@meshloop/test-harness";
import { createIstioActuatorService, istioActuatorConfig } from "../../src/service/index.ts";

const target: TargetRef = { mesh: "istio", namespace: "shop", service: "payments" };
const dir = mkdtempSync(join(tmpdir(), "gitops-"));
let lease: InfraLease;
let bus: Bus;
let runtime: ServiceRuntime;
let reader: Consumer;
const results: ActuationResult[] = [];
let topics: ReturnType<typeof topicNames>;

before(async () => {
  lease = await acquireInfra();
  const prefix = uniqueName("istio");
  topics = topicNames(prefix);
  bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "istio-actuator-test" });
  const config = loadConfig(istioActuatorConfig, { env: { ...serviceEnv(lease, prefix), MESHLOOP_LOG_LEVEL: "warn", MESHLOOP_CREATE_TOPICS: "true", MESHLOOP_ACTUATOR_GITOPS_DIR: dir } });
  runtime = await createServiceRuntime({ name: "actuator-istio", config, create: (context) => createIstioActuatorService(context) });
  await runtime.start();
  reader = bus.consumer({
    groupId: uniqueName("reader"),
    topics: [topics.actuations],
    fromBeginning: true,
    handler: async (batch) => {
      for (const record of batch.records) results.push(fromCloudEventMessage(record, "dev.meshloop.actuation.v1").data);
    },
  });
  await reader.start();
});
after(async () => {
  await reader?.stop();
  await runtime?.stop();
  await bus?.close();
  await lease?.release();
});

function decision(generation: number, weights: Record<string, number>): Decision {
  return {
    decisionId: `${targetKey(target)}@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), weights, retries: { attempts: 2, perTryTimeoutMs: 500, retryOn: ["5xx", "reset"], retriableStatusCodes: [], budget: null } },
    controllers: ["canary"],
    reason: "v2 passed the 5% step",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: Math.floor(generation / 1000),
    createdAt: new Date().toISOString(),
  };
}

async function publish(d: Decision): Promise<ActuationResult> {
  const producer = bus.producer();
  await producer.send(topics.decisions, [toCloudEventMessage({ type: "dev.meshloop.decision.v1", id: d.decisionId, source: "/test", data: d })]);
  await producer.close();
  await eventually(() => results.some((r) => r.generation === d.generation), `the result of ${d.decisionId}`, 60_000);
  return results.find((r) => r.generation === d.generation)!;
}

function files(): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

test("a decision becomes Istio resources in the GitOps folder; the same state again changes no file; a stale one is skipped", async () => {
  const first = await publish(decision(1_000_000, { v1: 90, v2: 10 }));
  assert.equal(first.status, "applied", first.reason);
  const written = files();
  const vsFile = written.find((f) => f.includes("virtualservice-"));
  assert.ok(vsFile, `a VirtualService among ${written.join(", ")}`);
  assert.ok(written.some((f) => f.includes("destinationrule-")), "the subsets' DestinationRule");
  const vs = parse(readFileSync(join(dir, vsFile), "utf8")) as { apiVersion: string; metadata: { labels: Record<string, string> }; spec: { http: Array<{ route: Array<{ destination: { subset: string }; weight: number }>; retries?: { attempts: number } }> } };
  assert.equal(vs.apiVersion, "networking.istio.io/v1");
  assert.equal(vs.metadata.labels["app.kubernetes.io/managed-by"], "meshloop");
  const route = vs.spec.http.find((h) => h.route.length === 2)!;
  assert.deepEqual(route.route.map((r) => [r.destination.subset, r.weight]), [["v1", 90], ["v2", 10]]);
  assert.equal(route.retries?.attempts, 2);

  const again = await publish(decision(2_000_000, { v1: 90, v2: 10 }));
  assert.equal(again.status, "applied");
  assert.ok(again.resources.every((r) => r.status === "unchanged"), "the same desired state rewrites nothing");
  const stale = await publish(decision(1_500_000, { v1: 0, v2: 100 }));
  assert.equal(stale.status, "stale");
  const after = parse(readFileSync(join(dir, vsFile), "utf8")) as typeof vs;
  assert.deepEqual(after.spec.http.find((h) => h.route.length === 2)!.route.map((r) => r.weight), [90, 10], "the stale decision changed nothing");
});
