import { createServer } from "node:net";
import { join } from "node:path";
import type { Bus } from "@meshloop/bus";
import { createKafkaBus } from "@meshloop/bus";
import { topicNames } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import { EMBEDDED_DEFAULTS, embeddedConfig, embeddedLoop } from "../embedded.ts";
import type { EmbeddedLoop } from "../embedded.ts";
import { ManagedProcess } from "./processes.ts";

/** The loop a scenario runs against: started with the loop's settings, read through its bus. */
export interface Loop {
  readonly bus: Bus;
  readonly topics: ReturnType<typeof topicNames>;
  /** The services' processes (distributed mode), for the chaos suite; empty when embedded. */
  readonly processes: readonly ManagedProcess[];
  stop(): Promise<void>;
}

export type LoopMode =
  | { kind: "embedded"; /** Also the web console (on MESHLOOP_CONSOLE_PORT). */ console?: boolean }
  | {
      kind: "distributed";
      kafkaBrokers: readonly string[];
      redisUrl: string;
      prefix: string;
      /** Default 1. */
      aggregators?: number;
      /** Each process's whole output is appended to `<logDir>/<name>.log` (the folder must exist). */
      logDir?: string;
    };

// Each service of the distributed loop, as its own process.
const MAINS = {
  ingest: "services/ingest/src/main.ts",
  aggregator: "services/aggregator/src/service/main.ts",
  decision: "services/decision/src/service/main.ts",
  "actuator-lab": "services/actuator-lab/src/service/main.ts",
} as const;

export async function startLoop(mode: LoopMode, env: Record<string, string>): Promise<Loop> {
  return mode.kind === "embedded" ? startEmbedded(env, mode.console === true) : startDistributed(mode, env);
}

async function startEmbedded(env: Record<string, string>, console: boolean): Promise<Loop> {
  let loop: EmbeddedLoop | undefined;
  const runtime: ServiceRuntime = await createServiceRuntime({
    name: "meshloop",
    config: loadConfig(embeddedConfig, { env: { ...EMBEDDED_DEFAULTS, ...env } }),
    create: (context) => (loop = embeddedLoop(context, { lab: true, console })).services,
  });
  await runtime.start();
  const { connections } = loop!;
  return {
    bus: connections.bus,
    topics: connections.topics,
    processes: [],
    stop: async () => {
      await runtime.stop();
    },
  };
}

/**
 * Ingest, aggregator, decision and the lab actuator as separate processes over the real Kafka and Redis, as they are
 * deployed; the runner reads the topics with a Kafka client of its own. Each process's ops port is chosen here so its
 * /readyz can be waited for; their logs go to this process's stderr when they fail to start.
 */
async function startDistributed(mode: Extract<LoopMode, { kind: "distributed" }>, env: Record<string, string>): Promise<Loop> {
  const shared = {
    ...env,
    MESHLOOP_BUS: "kafka",
    MESHLOOP_STORE: "redis",
    MESHLOOP_KAFKA_BROKERS: mode.kafkaBrokers.join(","),
    MESHLOOP_REDIS_URL: mode.redisUrl,
    MESHLOOP_TOPIC_PREFIX: mode.prefix,
    MESHLOOP_STORE_KEY_PREFIX: `${mode.prefix}:`,
    MESHLOOP_CREATE_TOPICS: "true",
    MESHLOOP_DECISION_FROM_BEGINNING: "true",
  };
  const names = ["ingest", ...Array.from({ length: mode.aggregators ?? 1 }, (_, k) => (k === 0 ? "aggregator" : `aggregator-${k + 1}`)), "decision", "actuator-lab"];
  const processes: ManagedProcess[] = [];
  for (const name of names) {
    const main = MAINS[name.startsWith("aggregator") ? "aggregator" : (name as keyof typeof MAINS)];
    const logFile = mode.logDir === undefined ? null : join(mode.logDir, `${name}.log`);
    processes.push(new ManagedProcess(name, main, await freePort(), { ...shared, MESHLOOP_SERVICE_INSTANCE_ID: `${mode.prefix}-${name}` }, logFile));
  }
  const stopAll = async () => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  try {
    for (const p of processes) p.start();
    for (const p of processes) await p.waitReady();
  } catch (error) {
    await stopAll();
    throw error;
  }
  const bus = createKafkaBus({ brokers: [...mode.kafkaBrokers], clientId: `meshloop-lab-${mode.prefix}` });
  return {
    bus,
    topics: topicNames(mode.prefix),
    processes,
    stop: async () => {
      await bus.close();
      await stopAll();
    },
  };
}

/**
 * A port to give a service, below Linux's default ephemeral range (32768-60999): a port the kernel handed out for
 * listen(0) could be handed to another process's connection or listener before the service binds it (seen in CI:
 * EADDRINUSE with suites running side by side), which the kernel never does with these.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
    if (attempt >= 50) throw new Error("no free port found in 20000-31999 after 50 tries");
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}
