// On demand (`pnpm --filter @meshloop/chaos test:storage`): it passed 2 of 3 runs; in a clean-clone CI run, beside the
// e2e suite on the same 2 cores, the loop recovered but the rollback did not come within its bound, so it is not a
// gate yet. Two stalls it found after the
// broker came back are fixed: the ingest's idempotent producer refused for good with OUT_OF_ORDER_SEQUENCE_NUMBER
// (kafkajs rolls back the sequence numbers of a request the broker had partly appended; @meshloop/bus's
// KafkaProducer now starts over with a new producer id), and an aggregator stage that stayed idle after one failed
// rejoin (it now retries until it is back). See docs/benchmarks.md ("Chaos and soak"). The run prints the
// aggregates' progress and the ingest's answers every 10 s, and keeps every process's log in a folder it names.
// The chaos suite's storage faults, on a broker and a Redis of this test's own (stopping the shared ones would break
// the other packages' tests running beside it): the distributed loop drives a canary while the Kafka broker is
// stopped for 20 s and restarted, and then Redis is killed and comes back empty. Asserted: the processes ride through
// both (none exits), the loop acts again afterwards (the canary that turns bad at 50 s is rolled back), and no
// decision is applied twice or out of order.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runScenario } from "@meshloop/cli";
import type { DuringRun } from "@meshloop/cli";
import { loadScenario } from "@meshloop/lab";
import type { PrivateKafka } from "@meshloop/test-harness";
import { privateKafka, uniqueName } from "@meshloop/test-harness";

const KAFKA_PORT = 19492;
const REDIS_PORT = 16492;
const file = new URL("./bad-canary-storage-faults.yaml", import.meta.url).pathname;
const scenario = loadScenario(readFileSync(file, "utf8"), file);
let kafka: PrivateKafka;
let redis: ChildProcess | null = null;

async function startRedis(): Promise<void> {
  // No persistence: a restart is a Redis that comes back empty.
  redis = spawn("redis-server", ["--port", String(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await sleep(500);
}

async function stopRedis(): Promise<void> {
  const r = redis;
  if (r === null || r.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => r.once("exit", () => resolve()));
  r.kill("SIGKILL");
  await exited;
}

before(async () => {
  kafka = privateKafka(KAFKA_PORT);
  await kafka.start();
  await startRedis();
});
after(async () => {
  await stopRedis();
  await kafka?.destroy();
});

/** The loop's own counters (meshloop_*) from a process's /metrics, without the histograms' buckets. */
async function metricsOf(port: number): Promise<string> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    return text.split("\n").filter((l) => l.startsWith("meshloop_") && !l.includes("_bucket")).join("\n");
  } catch (error) {
    return `(no /metrics: ${(error as Error).message})`;
  }
}

test("the loop rides through a 20 s broker outage and a Redis that comes back empty, and still rolls back a bad canary", { timeout: 400_000 }, async () => {
  const lines: string[] = [];
  const logDir = mkdtempSync(join(tmpdir(), "meshloop-storage-chaos-"));
  const chaos = async ({ loop, startedAtMs, log, aggregates }: DuringRun): Promise<void> => {
    const at = (s: number) => sleep(Math.max(0, startedAtMs + s * 1000 - Date.now()));
    // Every 10 s, where each service's final aggregates stand (a stall shows as a window that stops moving), and
    // what the ingest answers and holds for Kafka (a wedged producer shows as "unavailable" only, or bytes that stay).
    const progress = setInterval(() => {
      const ingest = loop.processes.find((p) => p.name === "ingest")!;
      void metricsOf(ingest.port).then((text) => {
        const pick = (pattern: RegExp) => text.split("\n").filter((l) => pattern.test(l)).map((l) => l.replace(/^meshloop_ingest_/, "")).join(" ");
        log(`ingest: ${pick(/requests_total\{protocol="http",signal="traces"/)} ${pick(/inflight_bytes/)}`);
      });
      const last = new Map<string, { start: number; complete: boolean; n: number }>();
      for (const a of aggregates) {
        const seen = last.get(a.service);
        if (seen === undefined || a.windowStartMs >= seen.start) last.set(a.service, { start: a.windowStartMs, complete: a.completeness.complete, n: (seen?.n ?? 0) + 1 });
        else seen.n++;
      }
      log(`aggregates: ${[...last].map(([service, l]) => `${service} ${l.n} to ${((l.start - startedAtMs) / 1000).toFixed(0)}s${l.complete ? "" : " (incomplete)"}`).join(", ") || "none"}`);
    }, 10_000);
    await at(6);
    log("chaos: Kafka broker stopped");
    await kafka.stop();
    await sleep(20_000);
    await kafka.start();
    log("chaos: Kafka broker back");
    await at(36);
    log("chaos: Redis killed, restarted empty");
    await stopRedis();
    await startRedis();
    await at(100);
    clearInterval(progress);
    for (const p of loop.processes) assert.equal(p.unexpectedExits, 0, `${p.name} exited without being killed`);
    const metrics = await Promise.all(loop.processes.map((p) => metricsOf(p.port)));
    outputs = loop.processes.map((p, i) => `--- ${p.name} (log ${p.logFile})\n${p.recentOutput()}\n${metrics[i]}`).join("\n");
  };
  let outputs = "";
  const mode = { kind: "distributed" as const, kafkaBrokers: kafka.brokers, redisUrl: `redis://127.0.0.1:${REDIS_PORT}`, prefix: uniqueName("storage"), logDir };
  // Info: claims, rejoins, decisions and restarts are in the processes' logs (kept in logDir), not only warnings.
  const run = await runScenario(scenario, { log: (line) => lines.push(line), mode, during: chaos, env: { MESHLOOP_LOG_LEVEL: "info" } });
  const timeline = `timeline:\n${lines.join("\n")}\nprocesses at 100 s:\n${outputs}`;
  console.log(`# storage faults timeline (process logs in ${logDir}):\n${lines.map((l) => `#   ${l}`).join("\n")}`);
  for (const v of run.verdicts) {
    if (v.figures !== undefined) console.log(`# storage faults rollback: ${v.figures.windows} windows after the fault; decision +${v.figures.toDecisionMs} ms, applied ${v.figures.toActuationMs === null ? "-" : `+${v.figures.toActuationMs} ms`}`);
  }
  assert.deepEqual(run.verdicts.filter((v) => v.state !== "passed").map((v) => `${v.expectation.kind}: ${v.detail}`), [], timeline);
  let last = 0;
  let lastId = "";
  for (const a of run.record.actuations.filter((x) => x.status === "applied")) {
    assert.ok(a.generation > last || (a.generation === last && a.decisionId === lastId), `generation ${a.generation} applied after ${last}\n${timeline}`);
    last = a.generation;
    lastId = a.decisionId;
  }
});
