import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UnavailableError } from "@meshloop/errors";
import { processAlive, withFileLock } from "./lock.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export interface InfraEndpoints {
  readonly kafkaBrokers: readonly string[];
  readonly redisUrl: string;
}

export interface InfraLease extends InfraEndpoints {
  /** Gives the lease back; the last lease out stops whatever the leases started. */
  release(): Promise<void>;
}

interface Component {
  name: "kafka" | "redis";
  port: number;
  start: string[];
}

const kafkaPort = Number(process.env.MESHLOOP_KAFKA_PORT ?? 9092);
const redisPort = Number(process.env.MESHLOOP_REDIS_PORT ?? 6379);
const components: Component[] = [
  { name: "kafka", port: kafkaPort, start: ["infra/kafka/start.sh", "infra/kafka/wait.sh"] },
  { name: "redis", port: redisPort, start: ["infra/redis/start.sh"] },
];
const stopScripts = { kafka: "infra/kafka/stop.sh", redis: "infra/redis/stop.sh" } as const;

const stateDir = process.env.MESHLOOP_TEST_INFRA_STATE ?? join(tmpdir(), "meshloop-test-infra");
const leaseDir = join(stateDir, "leases");

/**
 * Makes sure the real Kafka broker and Redis server are running and takes a lease on them. Packages' test runs
 * happen in parallel (turbo), so start-up happens once, under a lock; whoever started a component marks it as
 * owned, and the release of the last lease stops exactly what was started by leases and nothing else (a broker
 * a developer started by hand is used and left alone).
 */
export async function acquireInfra(): Promise<InfraLease> {
  const leaseFile = join(leaseDir, `${process.pid}-${randomBytes(4).toString("hex")}`);
  await withFileLock(stateDir, async () => {
    await mkdir(leaseDir, { recursive: true });
    for (const component of components) {
      if (await portOpen(component.port)) continue;
      for (const script of component.start) await runScript(script);
      await writeFile(ownedMarker(component.name), String(process.pid));
    }
    await writeFile(leaseFile, String(process.pid));
  });
  let released = false;
  return {
    kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    release: async () => {
      if (released) return;
      released = true;
      await withFileLock(stateDir, async () => {
        await rm(leaseFile, { force: true });
        if ((await liveLeases()) > 0) return;
        for (const component of components) {
          if (!(await exists(ownedMarker(component.name)))) continue;
          await runScript(stopScripts[component.name]);
          await rm(ownedMarker(component.name), { force: true });
        }
      });
    },
  };
}

function ownedMarker(name: string): string {
  return join(stateDir, `owned-${name}`);
}

/** Counts leases whose process is alive, removing those left by killed runs. */
async function liveLeases(): Promise<number> {
  let live = 0;
  for (const name of await readdir(leaseDir).catch(() => [])) {
    const pid = Number(name.split("-")[0]);
    if (processAlive(pid)) live++;
    else await rm(join(leaseDir, name), { force: true });
  }
  return live;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(500);
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("timeout", () => { socket.destroy(); resolve(false); });
    socket.once("error", () => resolve(false));
  });
}

function runScript(script: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // node:test marks its children with NODE_TEST_CONTEXT; a node started by a script would inherit it and talk the
  // test runner's protocol on stdout instead of printing.
  const { NODE_TEST_CONTEXT: _testContext, ...clean } = env;
  return new Promise((resolve, reject) => {
    execFile("bash", [join(repoRoot, script)], { cwd: repoRoot, timeout: 300_000, env: clean }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      // The scripts explain what is missing (Java, Maven, redis-server) on stderr; that explanation is the error.
      reject(new UnavailableError(`${script} failed: ${stderr.trim() || error.message}`, {
        cause: error,
        retriable: false,
        context: { script },
      }));
    });
  });
}

export interface PrivateKafka {
  readonly brokers: readonly string[];
  start(): Promise<void>;
  /** A clean broker shutdown (SIGTERM), as an operator's restart or a rolling upgrade does. */
  stop(): Promise<void>;
  /** Stops the broker and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * A broker of a test's own, on its own ports and data folder (sharing the cached jars), for fault tests that stop
 * and start Kafka: stopping the shared broker would break every other package's tests running in parallel.
 */
export function privateKafka(port: number): PrivateKafka {
  const env = { ...process.env, MESHLOOP_KAFKA_PORT: String(port), MESHLOOP_KAFKA_CONTROLLER_PORT: String(port + 1) };
  const run = (script: string): Promise<void> => runScript(script, env);
  return {
    brokers: [`127.0.0.1:${port}`],
    start: async () => {
      await run("infra/kafka/start.sh");
      await run("infra/kafka/wait.sh");
    },
    stop: () => run("infra/kafka/stop.sh"),
    destroy: () => run("infra/kafka/wipe.sh"),
  };
}
