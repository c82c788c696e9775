// On demand (`pnpm --filter @meshloop/chaos test:storage`), not in `./meshloop test`: one run of two stalled after the
// broker came back (no decision for 150 s; not yet understood), so it is not yet a gate.
// The chaos suite's storage faults, on a broker and a Redis of this test's own (stopping the shared ones would break
// the other packages' tests running beside it): the distributed loop drives a canary while the Kafka broker is
// stopped for 20 s and restarted, and then Redis is killed and comes back empty. Asserted: the processes ride through
// both (none exits), the loop acts again afterwards (the canary that turns bad at 50 s is rolled back), and no
// decision is applied twice or out of order.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
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

test("the loop rides through a 20 s broker outage and a Redis that comes back empty, and still rolls back a bad canary", { timeout: 400_000 }, async () => {
  const lines: string[] = [];
  const chaos = async ({ loop, startedAtMs, log }: DuringRun): Promise<void> => {
    const at = (s: number) => sleep(Math.max(0, startedAtMs + s * 1000 - Date.now()));
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
    for (const p of loop.processes) assert.equal(p.unexpectedExits, 0, `${p.name} exited without being killed`);
    outputs = loop.processes.map((p) => `--- ${p.name}\n${p.recentOutput()}`).join("\n");
  };
  let outputs = "";
  const mode = { kind: "distributed" as const, kafkaBrokers: kafka.brokers, redisUrl: `redis://127.0.0.1:${REDIS_PORT}`, prefix: uniqueName("storage") };
  const run = await runScenario(scenario, { log: (line) => lines.push(line), mode, during: chaos });
  const timeline = `timeline:\n${lines.join("\n")}\nprocesses at 100 s:\n${outputs}`;
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
