import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Bus } from "@meshloop/bus";
import { createKafkaBus } from "@meshloop/bus";
import { topicNames } from "@meshloop/contracts";
import { ConfigError, MeshloopError } from "@meshloop/errors";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import { EMBEDDED_DEFAULTS, embeddedConfig, embeddedLoop } from "../embedded.ts";
import type { EmbeddedLoop } from "../embedded.ts";

/** The loop a scenario runs against: started with the loop's settings, read through its bus. */
export interface Loop {
  readonly bus: Bus;
  readonly topics: ReturnType<typeof topicNames>;
  stop(): Promise<void>;
}

export type LoopMode = { kind: "embedded" } | { kind: "distributed"; kafkaBrokers: readonly string[]; redisUrl: string; prefix: string };

const ROOT = new URL("../../../../", import.meta.url).pathname;

// Each service of the distributed loop, as its own process: the entry point and its ops-port variable.
const PROCESSES = [
  { name: "ingest", main: "services/ingest/src/main.ts" },
  { name: "aggregator", main: "services/aggregator/src/service/main.ts" },
  { name: "decision", main: "services/decision/src/service/main.ts" },
  { name: "actuator-lab", main: "services/actuator-lab/src/service/main.ts" },
] as const;

export async function startLoop(mode: LoopMode, env: Record<string, string>): Promise<Loop> {
  return mode.kind === "embedded" ? startEmbedded(env) : startDistributed(mode, env);
}

async function startEmbedded(env: Record<string, string>): Promise<Loop> {
  let loop: EmbeddedLoop | undefined;
  const runtime: ServiceRuntime = await createServiceRuntime({
    name: "meshloop",
    config: loadConfig(embeddedConfig, { env: { ...EMBEDDED_DEFAULTS, ...env } }),
    create: (context) => (loop = embeddedLoop(context, { lab: true })).services,
  });
  await runtime.start();
  const { connections } = loop!;
  return {
    bus: connections.bus,
    topics: connections.topics,
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
  const children: { name: string; child: ChildProcess; port: number; output: string[] }[] = [];
  const stopAll = async () => {
    await Promise.all(children.map(({ child }) => stopChild(child)));
  };
  try {
    for (const p of PROCESSES) {
      const port = await freePort();
      const child = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", p.main], {
        cwd: ROOT,
        env: { ...process.env, ...shared, MESHLOOP_HTTP_PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const output: string[] = [];
      const keep = (chunk: Buffer) => {
        output.push(chunk.toString());
        if (output.length > 200) output.shift();
      };
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      children.push({ name: p.name, child, port, output });
    }
    for (const c of children) await waitReady(c.name, c.port, c.child, c.output);
  } catch (error) {
    await stopAll();
    throw error;
  }
  const bus = createKafkaBus({ brokers: [...mode.kafkaBrokers], clientId: `meshloop-lab-${mode.prefix}` });
  return {
    bus,
    topics: topicNames(mode.prefix),
    stop: async () => {
      await bus.close();
      await stopAll();
    },
  };
}

async function waitReady(name: string, port: number, child: ChildProcess, output: readonly string[]): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new ConfigError(`the ${name} process exited with ${child.exitCode}: ${output.join("").trim().split("\n").slice(-3).join(" | ")}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new MeshloopError(`the ${name} process was not ready within 90 s`, { retriable: false, context: { port } });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const killed = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!killed) {
    child.kill("SIGKILL");
    await exited;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
