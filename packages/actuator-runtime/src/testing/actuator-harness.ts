import type { z } from "zod";
import { createKafkaBus } from "@meshloop/bus";
import type { Bus, Consumer } from "@meshloop/bus";
import { fromCloudEventMessage, toCloudEventMessage, topicNames } from "@meshloop/contracts";
import type { ActuationResult, Decision } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ConfigSchema, CreateServices, ServiceRuntime } from "@meshloop/runtime";
// A devDependency of this package, as of every actuator whose tests import this module; production code never does.
import { acquireInfra, eventually, serviceEnv, uniqueName } from "@meshloop/test-harness";

export interface ActuatorHarnessOptions<S extends ConfigSchema> {
  /** The service's name, e.g. `actuator-consul`; its consumer group is `<prefix>.meshloop-<name>`. */
  readonly name: string;
  readonly config: S;
  readonly create: CreateServices<z.output<S>>;
  /** The service's own variables, over the infrastructure's (Kafka, Redis, a unique topic prefix, port 0). */
  readonly env?: Record<string, string>;
}

export interface RunningActuator {
  readonly runtime: ServiceRuntime;
  readonly bus: Bus;
  /** The topic prefix, unique to this start. */
  readonly prefix: string;
  readonly topics: ReturnType<typeof topicNames>;
  /** Every actuation result read so far, in order. */
  readonly results: ActuationResult[];
  /** Publishes a decision as the decision service does; answers where it landed. */
  send(decision: Decision): Promise<{ partition: number; offset: number }>;
  /** Publishes a decision and waits (up to a minute) for its result. */
  publish(decision: Decision): Promise<ActuationResult>;
  stop(): Promise<void>;
}

/**
 * An actuator service on the real Kafka and Redis, as the actuator services' tests run it: configuration loaded
 * from the infrastructure's variables and the test's own, the service started, and a reader of the actuations topic
 * collecting every result. A start that fails releases what it took and rethrows.
 */
export async function startActuator<S extends ConfigSchema>(options: ActuatorHarnessOptions<S>): Promise<RunningActuator> {
  const lease = await acquireInfra();
  const prefix = uniqueName(options.name.replace(/^actuator-/, ""));
  const topics = topicNames(prefix);
  const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: `${options.name}-test` });
  let runtime: ServiceRuntime | null = null;
  let reader: Consumer | null = null;
  const release = async () => {
    await reader?.stop();
    await runtime?.stop();
    await bus.close();
    await lease.release();
  };
  const results: ActuationResult[] = [];
  try {
    const config = loadConfig(options.config, { env: { ...serviceEnv(lease, prefix), MESHLOOP_LOG_LEVEL: "warn", MESHLOOP_CREATE_TOPICS: "true", ...options.env } });
    runtime = await createServiceRuntime({ name: options.name, config, create: options.create });
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
  } catch (error) {
    await release();
    throw error;
  }
  const started = runtime;
  const send = async (decision: Decision) => {
    const producer = bus.producer();
    try {
      const [position] = await producer.send(topics.decisions, [toCloudEventMessage({ type: "dev.meshloop.decision.v1", id: decision.decisionId, source: "/test", data: decision })]);
      return position!;
    } finally {
      await producer.close();
    }
  };
  return {
    runtime: started,
    bus,
    prefix,
    topics,
    results,
    send,
    async publish(decision) {
      await send(decision);
      await eventually(() => results.some((r) => r.decisionId === decision.decisionId), `the result of ${decision.decisionId}`, 60_000);
      return results.find((r) => r.decisionId === decision.decisionId)!;
    },
    stop: release,
  };
}
