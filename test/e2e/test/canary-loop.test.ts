// The loop through every real topic: spans from the OpenTelemetry SDK's own exporter -> ingest -> aggregator (both
// stages) -> decision -> the Istio actuator (GitOps output) -> actuations -> decision. A new version v2 appears
// beside v1: the decision service pins v1 at 100% before v2 gets traffic, the actuator writes that into the
// VirtualService, and the decision service learns that it was applied. No mesh runs here; the lab is not built yet.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { SpanKind } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { parse } from "yaml";
import { createIstioActuatorService, istioActuatorConfig } from "@meshloop/actuator-istio/service";
import { aggregatorConfig, createAggregatorService } from "@meshloop/aggregator/service";
import { createKafkaBus } from "@meshloop/bus";
import type { Consumer } from "@meshloop/bus";
import { fromCloudEventMessage, topicNames } from "@meshloop/contracts";
import type { ActuationResult, Decision } from "@meshloop/contracts";
import { createDecisionService, decisionConfig } from "@meshloop/decision/service";
import { createIngestService, ingestConfig } from "@meshloop/ingest";
import type { IngestService } from "@meshloop/ingest";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, eventually, serviceEnv, uniqueName } from "@meshloop/test-harness";

let lease: InfraLease;
const runtimes: ServiceRuntime[] = [];
const consumers: Consumer[] = [];
const dir = mkdtempSync(join(tmpdir(), "e2e-"));

before(async () => {
  lease = await acquireInfra();
});
after(async () => {
  for (const consumer of consumers) await consumer.stop();
  for (const runtime of runtimes.reverse()) await runtime.stop();
  await lease?.release();
});

test("a new version appears: pinned at 0% by a decision, written to the mesh configuration, known as applied", async () => {
  const prefix = uniqueName("e2e");
  const topics = topicNames(prefix);
  const env = { ...serviceEnv(lease, prefix), MESHLOOP_LOG_LEVEL: "warn", MESHLOOP_CREATE_TOPICS: "true" };
  const policies = join(dir, "policies.yaml");
  writeFileSync(policies, "policies:\n  - name: payments\n    selector: { service: payments }\n    canary: { enabled: true }\n");
  let ingest: IngestService | undefined;
  const started = async (created: Promise<ServiceRuntime>): Promise<void> => {
    const runtime = await created;
    await runtime.start();
    runtimes.push(runtime);
  };
  const settings = (extra: Record<string, string>) => ({ env: { ...env, ...extra } });
  await started(createServiceRuntime({
    name: "ingest",
    config: loadConfig(ingestConfig, settings({ MESHLOOP_INGEST_HTTP_PORT: "0", MESHLOOP_INGEST_GRPC_PORT: "0" })),
    create: (context) => (ingest = createIngestService(context)),
  }));
  await started(createServiceRuntime({
    name: "aggregator",
    config: loadConfig(aggregatorConfig, settings({ MESHLOOP_AGGREGATOR_WINDOW: "1s", MESHLOOP_AGGREGATOR_LATENESS: "1s", MESHLOOP_AGGREGATOR_COMPLETENESS_TIMEOUT: "3s" })),
    create: (context) => createAggregatorService(context),
  }));
  await started(createServiceRuntime({
    name: "decision",
    config: loadConfig(decisionConfig, settings({ MESHLOOP_DECISION_POLICY_FILES: policies, MESHLOOP_DECISION_FROM_BEGINNING: "true", MESHLOOP_DECISION_PROPAGATION_DELAY: "0ms" })),
    create: (context) => createDecisionService(context),
  }));
  await started(createServiceRuntime({
    name: "actuator-istio",
    config: loadConfig(istioActuatorConfig, settings({ MESHLOOP_ACTUATOR_GITOPS_DIR: dir })),
    create: (context) => createIstioActuatorService(context),
  }));

  const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "e2e" });
  const decisions: Decision[] = [];
  const actuations: ActuationResult[] = [];
  const reader = bus.consumer({
    groupId: uniqueName("e2e-reader"),
    topics: [topics.decisions, topics.actuations],
    fromBeginning: true,
    handler: async (batch) => {
      for (const record of batch.records) {
        const event = fromCloudEventMessage(record);
        if (event.type === "dev.meshloop.decision.v1") decisions.push(event.data);
        if (event.type === "dev.meshloop.actuation.v1") actuations.push(event.data);
      }
    },
  });
  await reader.start();
  consumers.push(reader);

  // Two versions of payments, as real SDKs export them: v1 serving most, v2 new.
  const url = `http://127.0.0.1:${ingest!.ports().http}/v1/traces`;
  const providers = [["1.0.0", 9], ["2.0.0", 1]].map(([version, share]) => ({
    share: share as number,
    provider: new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "payments", "service.version": version, "service.instance.id": `payments-${String(version)}-0` }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 100 })],
    }),
  }));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !decisions.some((d) => d.desiredState.weights !== null)) {
    for (const { provider, share } of providers) {
      const tracer = provider.getTracer("e2e");
      for (let i = 0; i < share * 5; i++) {
        tracer.startSpan("POST /pay", { kind: SpanKind.SERVER, attributes: { "http.request.method": "POST", "http.route": "/pay", "http.response.status_code": 200 } }).end();
      }
    }
    await sleep(50);
  }
  await Promise.all(providers.map(({ provider }) => provider.shutdown()));

  const pin = decisions.find((d) => d.desiredState.weights !== null);
  assert.ok(pin, `a decision with weights (decisions: ${decisions.map((d) => d.reason).join(" | ")})`);
  assert.deepEqual(pin.desiredState.weights, { "1.0.0": 100, "2.0.0": 0 });
  assert.match(pin.reason, /New version 2\.0\.0 detected; pinning 1\.0\.0 at 100%/);
  assert.deepEqual(pin.target, { mesh: "istio", namespace: "default", service: "payments" });

  await eventually(() => actuations.some((a) => a.decisionId === pin.decisionId), "the actuation result", 30_000);
  const result = actuations.find((a) => a.decisionId === pin.decisionId)!;
  assert.equal(result.status, "applied", result.reason);
  const vsFile = readdirSync(dir, { recursive: true, withFileTypes: true }).find((e) => e.isFile() && e.name.startsWith("virtualservice-"));
  assert.ok(vsFile, "a VirtualService written");
  const vs = parse(readFileSync(join(vsFile.parentPath, vsFile.name), "utf8")) as { spec: { http: Array<{ route: Array<{ destination: { subset: string }; weight: number }> }> } };
  const weights = Object.fromEntries(vs.spec.http.flatMap((h) => h.route).map((r) => [r.destination.subset, r.weight]));
  // Subsets are named from the versions, made DNS-safe.
  assert.deepEqual(weights, { "1-0-0": 100, "2-0-0": 0 });

  // The decision service read the result back (the loop is closed): its counter of applied actuations moved.
  const decisionRuntime = runtimes.find((r) => r.name === "decision")!;
  await eventually(async () => /meshloop_decision_actuations_total\{status="applied"\} [1-9]/.test(await (await fetch(`${decisionRuntime.ops.address().url}/metrics`)).text()), "the decision service saw the actuation", 30_000);
  const latency = new Date(result.observedAt).getTime() - pin.windowEndMs;
  console.log(`# window end -> actuation applied: ${latency} ms (window 1 s, lateness 1 s)`);
  await bus.close();
});
