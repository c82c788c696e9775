// Two aggregator processes (both stages each) on the real Kafka and Redis. One is killed with SIGKILL mid-stream, or
// paused with SIGSTOP past the session timeout and resumed after its partitions moved (a zombie); duplicates are
// injected into the spans topic; and the totals over all final aggregates must still equal the generated totals
// exactly: nothing counted twice, nothing lost, edges included.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, eventually } from "@meshloop/test-harness";
import { assertTotals, expectedTotals, totals } from "../pipeline.ts";
import { shopTraces } from "../span-stream.ts";
import type { KafkaRun } from "./kafka-fixture.ts";
import { kafkaRun, toPresent } from "./kafka-fixture.ts";

const main = fileURLToPath(new URL("../../src/service/main.ts", import.meta.url));
let lease: InfraLease;
const runs: KafkaRun[] = [];
const children: ChildProcess[] = [];

before(async () => {
  lease = await acquireInfra();
});
after(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const run of runs) await run.close();
  await lease.release();
});

function startInstance(run: KafkaRun, name: string): ChildProcess {
  const child = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", main], {
    env: { ...process.env, ...run.env, MESHLOOP_SERVICE_INSTANCE_ID: name },
    stdio: ["ignore", process.env.AGG_CHILD_LOG ? "inherit" : "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

/** Runs the stream through two instances, doing `fault` to instance `a` between the two halves. */
async function faultScenario(seed: number, fault: (a: ChildProcess, run: KafkaRun, rest: () => Promise<void>) => Promise<void>): Promise<void> {
  const run = await kafkaRun(lease);
  runs.push(run);
  const { spans, expected } = shopTraces({ seed, traces: 400, spreadMs: 30_000 });
  const present = toPresent(spans, 30_000);
  // Cut between traces: a pair split across the pause would expire on the wall-clock watermark, which in real
  // traffic (partners seconds apart) does not happen.
  let cut = Math.floor(present.length / 2);
  while (cut < present.length && present[cut]!.traceId === present[cut - 1]!.traceId) cut++;
  const firstHalf = new Set(present.slice(0, cut).map((s) => s.traceId));
  assert.ok(present.slice(cut).every((s) => !firstHalf.has(s.traceId)), "no trace is split by the pause");
  const a = startInstance(run, "a");
  startInstance(run, "b");
  // Topics exist once an instance started; produce the first half, then do the fault to `a` while it works.
  await eventually(async () => (await run.bus.partitionCount(run.topics.aggregates).catch(() => 0)) > 0, "topics created", 60_000);
  const collected = run.collectAggregates();
  await collected.start();
  await run.produce(present.slice(0, cut));
  await eventually(() => collected.aggregates.length > 0, "first aggregates", 90_000);
  await fault(a, run, async () => {
    await run.produce(present.slice(cut));
    // At-least-once upstream: the same records again, which stage 1 must recognise as duplicates.
    await run.produce(present.slice(cut - 200, cut + 200));
  });
  const want = expectedTotals(expected);
  await eventually(() => {
    const got = totals(collected.aggregates);
    return [...want].every(([key, counters]) => (got.get(key)?.requests ?? 0) >= counters.requests);
  }, "aggregates adding up to the generated totals", 150_000).catch((error: unknown) => {
    const got = totals(collected.aggregates);
    const off = [...want].filter(([key, c]) => got.get(key)?.requests !== c.requests).map(([key, c]) => `${key}: ${got.get(key)?.requests} of ${c.requests}`);
    throw new Error(`${(error as Error).message}; ${collected.aggregates.length} aggregates; off: ${off.slice(0, 6).join("; ")}`);
  });
  // Give a doubly counted window time to show up before judging.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  assertTotals(totals(collected.aggregates), want);
  assert.equal(new Set(collected.ids).size, collected.ids.length, "no aggregate was committed twice");
  const duplicates = collected.aggregates.reduce((sum, aggregate) => sum + aggregate.spans.duplicate, 0);
  assert.ok(duplicates > 0, "the injected duplicates were seen and dropped");
}

test("SIGKILL of one of two instances mid-stream, plus injected duplicates: totals stay exact", async () => {
  await faultScenario(11, async (a, _run, rest) => {
    a.kill("SIGKILL");
    await rest();
  });
});

test("a zombie: one instance paused with SIGSTOP past the session timeout, resumed after its partitions moved", async () => {
  await faultScenario(13, async (a, run, rest) => {
    a.kill("SIGSTOP");
    try {
      // The session timeout is 6 s: by then `b` owns every partition and fences `a`'s transactional ids.
      await new Promise((resolve) => setTimeout(resolve, 9_000));
      await rest();
    } finally {
      // Awake again with state it no longer owns: its next commit is fenced, and it must rejoin, not write.
      a.kill("SIGCONT");
    }
  });
});
