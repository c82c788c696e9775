// Time from an aggregate's arrival to its decision's publication, through the whole decision service on the real
// Kafka and Redis, run on demand (not a test): `pnpm --filter @meshloop/decision bench:service [targets] [rate] [warmup]`.
// Each of `targets` targets gets one window in which a new version appears, which always yields a decision (the
// baseline pinned before the canary gets traffic), at `rate` aggregates per second. Latency is the decision record's
// timestamp minus the aggregate record's timestamp (both set by producers on this machine), so it includes Kafka
// both ways, the consumer's fetch wait, the Redis reads and compare-and-set writes, and the evaluation.
// The service runs as its own process (src/service/main.ts), as deployed: the bench's producer and checking consumer
// do not share its event loop. Aggregates are built before the clock starts (the aggregator is another process too)
// and go out on schedule whether or not earlier ones were acknowledged (a sender that waited would send less exactly
// when the system is slow, hiding that), from a producer that does not linger (the aggregator's own linger is not the
// decision service's). `warmup` targets (default 200) go first and are not measured: the first batches run cold code
// in the service and, when the harness has just started it, in the broker.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createKafkaBus } from "@meshloop/bus";
import type { ConsumedRecord } from "@meshloop/bus";
import { encodeEnvelope, fromCloudEventMessage, targetKey, topicNames, TOPICS } from "@meshloop/contracts";
import { acquireInfra, serviceEnv, uniqueName } from "@meshloop/test-harness";
import { windowAggregate, WINDOW_MS } from "../test/support/aggregates.ts";

const targets = Number(process.argv[2] ?? 2000);
const rate = Number(process.argv[3] ?? 500);
const warmup = Number(process.argv[4] ?? 200);
const MAIN = fileURLToPath(new URL("../src/service/main.ts", import.meta.url));

const lease = await acquireInfra();
const prefix = uniqueName("bench");
const topics = topicNames(prefix);
const dir = mkdtempSync(join(tmpdir(), "decision-bench-"));
writeFileSync(join(dir, "p.yaml"), "policies:\n  - name: all\n    canary: { enabled: true }\n");
const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "decision-bench" });
await bus.ensureTopics((["aggregates", "decisions", "actuations", "control"] as const).map((id) => ({ name: topics[id], partitions: TOPICS[id].partitions })));

const port = await freePort();
const { NODE_TEST_CONTEXT: _testContext, ...inherited } = process.env;
const service = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", MAIN], {
  env: {
    ...inherited,
    ...serviceEnv(lease, prefix),
    MESHLOOP_HTTP_PORT: String(port),
    MESHLOOP_LOG_LEVEL: "warn",
    MESHLOOP_DECISION_POLICY_FILES: join(dir, "p.yaml"),
    MESHLOOP_DECISION_FROM_BEGINNING: "true",
    // Every target acts once here; the default budget (50 a minute) would rightly hold most of them back.
    MESHLOOP_DECISION_GLOBAL_MAX_ACTIONS_PER_MINUTE: "100000",
  },
  stdio: ["ignore", "inherit", "inherit"],
});
const metricsText = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
for (let ready = false; !ready; ) {
  if (service.exitCode !== null) throw new Error(`the decision service exited with code ${service.exitCode}`);
  ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
  if (!ready) await sleep(100);
}

let latencies: number[] = [];
const checked: ConsumedRecord[] = [];
const sentAt = new Map<string, number>();
const consumer = bus.consumer({
  groupId: uniqueName("bench-check"),
  topics: [topics.decisions],
  fromBeginning: true,
  commitIntervalMs: 1_000,
  // Reads the key (the target) and type header only, and validates a sample of the decisions after the timed run.
  handler: async (batch) => {
    for (const record of batch.records) {
      if (record.headers["ce_type"] !== "dev.meshloop.decision.v1") continue;
      const sent = sentAt.get(record.key?.toString() ?? "");
      if (sent !== undefined) latencies.push(record.timestamp - sent);
      if (checked.length < 100) checked.push(record);
    }
  },
});
await consumer.start();
await sleep(2_000);

const producer = bus.producer({ lingerMs: 0 });
await producer.connect();
// Windows an hour ahead of the clock: their input delay is 0, as for a caught-up aggregator.
const start = Math.ceil((Date.now() + 3_600_000) / WINDOW_MS) * WINDOW_MS;

/** Sends one aggregate for each of `count` targets at `rate` per second and waits for all their decisions. */
async function run(name: string, count: number): Promise<number> {
  const prepared = Array.from({ length: count }, (_, k) => {
    const target = { mesh: "lab" as const, namespace: "bench", service: `${name}-${k}` };
    const aggregate = windowAggregate({ startMs: start, target, versions: { v1: { requests: 1000, errors: 5 } }, deployed: ["v1", "v2"] });
    return { key: targetKey(target), value: encodeEnvelope("meshloop.aggregate", aggregate) };
  });
  const began = performance.now();
  const sends: Promise<unknown>[] = [];
  for (const [k, { key, value }] of prepared.entries()) {
    const timestamp = Date.now();
    sentAt.set(key, timestamp);
    sends.push(producer.send(topics.aggregates, [{ key, value, timestamp }]));
    const wait = began + ((k + 1) * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(sends);
  const deadline = Date.now() + 60_000;
  while (latencies.length < count && Date.now() < deadline) await sleep(100);
  return (performance.now() - began) / 1000;
}

if (warmup > 0) await run("warm", warmup);
latencies = [];
const before = parseMetrics(await metricsText());
const benchCpuBefore = process.cpuUsage();
const machineBefore = machineTimes();
const elapsed = await run("svc", targets);
const benchCpu = process.cpuUsage(benchCpuBefore);
const machine = machineTimes();
const after = parseMetrics(await metricsText());
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
console.log(`decision service, ${targets} targets at ${rate}/s (after ${warmup} unmeasured): ${latencies.length} decisions in ${elapsed.toFixed(1)} s`);
console.log(`aggregate -> decision published: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${latencies.at(-1)} ms`);
const buckets = [...after.buckets].map(([le, count]) => `<=${le}s:${count - (before.buckets.get(le) ?? 0)}`);
console.log(`in the service (batch arrival -> published), cumulative buckets: ${buckets.join(" ")}`);
// The records the timed loop did not validate: real decisions for the targets they are keyed by.
for (const record of checked) {
  const event = fromCloudEventMessage(record, "dev.meshloop.decision.v1");
  if (targetKey(event.data.target) !== record.key?.toString()) throw new Error(`decision ${event.id} is keyed by another target`);
}
console.log(`CPU: decision service ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} s, bench producer and consumer ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} s`);
// The whole machine, broker, Redis and whatever else runs here included: latency on a shared machine follows it.
const busy = 1 - (machine.idle - machineBefore.idle) / Math.max(1, machine.total - machineBefore.total);
console.log(`machine CPU busy over the run: ${(busy * 100).toFixed(0)}% of ${cpus().length} cores`);

await producer.close();
await consumer.stop();
const exited = once(service, "exit");
service.kill("SIGTERM");
await exited;
await bus.deleteTopics(Object.values(topics)).catch(() => undefined);
await bus.close();
await lease.release();

/** The service's histogram of batch arrival to decision published (cumulative count by bound) and its CPU time. */
function parseMetrics(text: string): { buckets: Map<string, number>; cpuSeconds: number } {
  const buckets = new Map<string, number>();
  for (const match of text.matchAll(/^meshloop_decision_latency_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) buckets.set(match[1]!, Number(match[2]));
  const cpu = /^process_cpu_seconds_total (\S+)$/m.exec(text);
  return { buckets, cpuSeconds: cpu === null ? Number.NaN : Number(cpu[1]) };
}

function machineTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
