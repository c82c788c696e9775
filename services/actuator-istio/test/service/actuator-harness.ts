// The Istio actuator service on the real Kafka and Redis, with a reader of its actuation results, for the service tests.
import type { Bus, Consumer } from "@meshloop/bus";
import { createKafkaBus } from "@meshloop/bus";
import { emptyDesiredState, fromCloudEventMessage, targetKey, toCloudEventMessage, topicNames } from "@meshloop/contracts";
import type { ActuationResult, Decision, TargetRef, Weights } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, eventually, serviceEnv, uniqueName } from "@meshloop/test-harness";
import { createIstioActuatorService, istioActuatorConfig } from "../../src/service/index.ts";

export const target: TargetRef = { mesh: "istio", namespace: "shop", service: "payments" };

export interface RunningActuator {
  readonly runtime: ServiceRuntime;
  readonly results: ActuationResult[];
  publish(decision: Decision): Promise<ActuationResult>;
  stop(): Promise<void>;
}

export async function startActuator(env: Record<string, string>): Promise<RunningActuator> {
  const lease: InfraLease = await acquireInfra();
  const prefix = uniqueName("istio");
  const topics = topicNames(prefix);
  const bus: Bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "istio-actuator-test" });
  const config = loadConfig(istioActuatorConfig, { env: { ...serviceEnv(lease, prefix), MESHLOOP_LOG_LEVEL: "warn", MESHLOOP_CREATE_TOPICS: "true", ...env } });
  const runtime = await createServiceRuntime({ name: "actuator-istio", config, create: (context) => createIstioActuatorService(context) });
  await runtime.start();
  const results: ActuationResult[] = [];
  const reader: Consumer = bus.consumer({
    groupId: uniqueName("reader"),
    topics: [topics.actuations],
    fromBeginning: true,
    handler: async (batch) => {
      for (const record of batch.records) results.push(fromCloudEventMessage(record, "dev.meshloop.actuation.v1").data);
    },
  });
  await reader.start();
  return {
    runtime,
    results,
    async publish(d) {
      const producer = bus.producer();
      await producer.send(topics.decisions, [toCloudEventMessage({ type: "dev.meshloop.decision.v1", id: d.decisionId, source: "/test", data: d })]);
      await producer.close();
      await eventually(() => results.some((r) => r.generation === d.generation), `the result of ${d.decisionId}`, 60_000);
      return results.find((r) => r.generation === d.generation)!;
    },
    async stop() {
      await reader.stop();
      await runtime.stop();
      await bus.close();
      await lease.release();
    },
  };
}

export function decision(generation: number, weights: Weights): Decision {
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
