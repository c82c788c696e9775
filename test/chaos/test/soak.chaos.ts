// On demand (`pnpm --filter @meshloop/chaos soak`), never in `./meshloop test`: the soak. The distributed loop of the
// chaos suite (ingest, two aggregators, decision, the lab actuator as processes on the real Kafka and Redis) runs for
// MESHLOOP_SOAK_DURATION (default 30m) at a steady MESHLOOP_SOAK_RPS (default 80) through the lab, while one payments
// instance fails 60% of its requests for 8 s every MESHLOOP_SOAK_FAULT_INTERVAL (default 2m), a different instance
// each time, and each must be ejected (and the ejection applied). Nothing is killed: restarts would reset the memory
// being watched. Every MESHLOOP_SOAK_SAMPLE_INTERVAL (default 10s) each process's resident memory is read from
// /proc/<pid>/status (VmRSS), and each service's V8 heap in use from its /metrics (reported, not asserted: it tells a
// leak in the service's objects from RSS the allocator keeps).
// Printed: per process the memory at start and end, its peak and the least-squares slope (MB/min) over the second
// half of the run; the fault-to-actuation delays (p50, p99, max) from each fault's onset to its ejection applied.
// Asserted: nothing exits, every fault's ejection is applied within 20 windows, and, when the second half spans at
// least 5 minutes (shorter is noise), no loop process grows faster than MESHLOOP_SOAK_MAX_GROWTH_MB_PER_MIN (default 1).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runScenario } from "@meshloop/cli";
import type { DuringRun, ManagedProcess } from "@meshloop/cli";
import { duration, loadScenario } from "@meshloop/lab";
import type { Scenario } from "@meshloop/lab";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, uniqueName } from "@meshloop/test-harness";
import type { RssSample } from "./soak-stats.ts";
import { heapUsedMb, percentile, procMemoryMb, rssTrend } from "./soak-stats.ts";

const env = process.env;
const soakMs = duration.parse(env.MESHLOOP_SOAK_DURATION ?? "30m");
const rps = Number(env.MESHLOOP_SOAK_RPS ?? "80");
const faultEveryMs = duration.parse(env.MESHLOOP_SOAK_FAULT_INTERVAL ?? "2m");
const sampleEveryMs = duration.parse(env.MESHLOOP_SOAK_SAMPLE_INTERVAL ?? "10s");
const maxGrowthMbPerMin = Number(env.MESHLOOP_SOAK_MAX_GROWTH_MB_PER_MIN ?? "1");
/** Before the first fault the ejection controller needs windows of every instance's normal success rate. */
const WARM_UP_MS = 30_000;
const FAULT_MS = 8_000;
/** As in soak.yaml: at 80 req/s each gets about 13 a second, over the ejection rule's volume of 10 per window. */
const PAYMENTS_INSTANCES = 6;

/** The soak's scenario: the base file's policies and topology, the configured rate, and one fault per interval. */
function soakScenario(): Scenario {
  const file = new URL("./soak.yaml", import.meta.url).pathname;
  const base = loadScenario(readFileSync(file, "utf8"), file);
  if (faultEveryMs < 40_000) throw new Error(`MESHLOOP_SOAK_FAULT_INTERVAL ${faultEveryMs} ms is shorter than an ejection and its restoration (40 s)`);
  if (!(rps > 0)) throw new Error(`MESHLOOP_SOAK_RPS ${env.MESHLOOP_SOAK_RPS} is not a positive number`);
  const faults: Scenario["faults"] = [];
  const expect: Scenario["expect"] = [...base.expect];
  // The last fault starts a minute before the end, so that its ejection can still be seen.
  for (let k = 0, at = WARM_UP_MS; at + 60_000 <= soakMs; k++, at += faultEveryMs) {
    const instance = `payments-v1-${k % PAYMENTS_INSTANCES}`;
    const name = `errors-${k + 1}`;
    faults.push({ name, at, for: FAULT_MS, scope: { service: "payments", instanceId: instance }, effect: { kind: "errors", rate: 0.6, status: 503 } });
    expect.push({ kind: "decision", service: "payments", controller: "ejection", reason: `Ejecting ${instance}(?![0-9])`, after: name, anchorAt: "decided", withinWindows: 20, applied: true });
  }
  return { ...base, duration: soakMs, load: { ...base.load, profile: { kind: "constant", rps } }, faults, expect };
}

let lease: InfraLease;
before(async () => {
  lease = await acquireInfra();
});
after(() => lease?.release());

test(`the loop runs ${soakMs / 60_000} min under steady load and repeated faults without memory growth, ejecting every faulty instance`, { timeout: soakMs + 600_000 }, async () => {
  const scenario = soakScenario();
  assert.ok(scenario.faults.length > 0, `a soak of ${soakMs} ms leaves no room for a fault`);
  const lines: string[] = [];
  const logDir = mkdtempSync(join(tmpdir(), "meshloop-soak-"));
  const samples = new Map<string, RssSample[]>();
  const heaps = new Map<string, RssSample[]>();
  const peaks = new Map<string, number | null>();
  let processes: readonly ManagedProcess[] = [];
  const record = (into: Map<string, RssSample[]>, name: string, mb: number | null) => {
    if (mb === null) return;
    const list = into.get(name) ?? [];
    list.push({ atMs: Date.now(), mb });
    into.set(name, list);
  };
  const sample = (name: string, pid: number | undefined) => record(samples, name, procMemoryMb(pid));
  // The heap in use, from each service's /metrics: a sample missed (a scrape that failed) is just missing.
  const sampleHeap = async (p: ManagedProcess) => {
    const text = await fetch(`http://127.0.0.1:${p.port}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).catch(() => "");
    record(heaps, p.name, heapUsedMb(text));
  };
  const soak = async ({ loop, startedAtMs, log }: DuringRun): Promise<void> => {
    processes = loop.processes;
    const endMs = startedAtMs + soakMs;
    let next = Date.now();
    let reportAt = startedAtMs + 5 * 60_000;
    while (Date.now() < endMs) {
      for (const p of loop.processes) sample(p.name, p.pid);
      await Promise.all(loop.processes.map(sampleHeap));
      // This process holds the lab (its servers and exporters) and the runner's Kafka reader.
      sample("lab+runner", process.pid);
      if (Date.now() >= reportAt) {
        reportAt += 5 * 60_000;
        log(`rss MB: ${[...samples].map(([name, list]) => `${name} ${Math.round(list.at(-1)!.mb)}`).join(", ")}`);
      }
      next += sampleEveryMs;
      await sleep(Math.max(0, Math.min(next, endMs) - Date.now()));
    }
    for (const p of loop.processes) peaks.set(p.name, procMemoryMb(p.pid, "VmHWM"));
    peaks.set("lab+runner", procMemoryMb(process.pid, "VmHWM"));
  };
  const mode = { kind: "distributed" as const, kafkaBrokers: lease.kafkaBrokers, redisUrl: lease.redisUrl, prefix: uniqueName("soak"), aggregators: 2, logDir };
  const run = await runScenario(scenario, { log: (line) => lines.push(line), mode, during: soak, keepAggregates: false });
  const timeline = `timeline (process logs in ${logDir}):\n${lines.join("\n")}`;

  console.log(`# soak: ${soakMs / 60_000} min at ${rps} req/s, ${scenario.faults.length} faults every ${faultEveryMs / 1000} s, memory sampled every ${sampleEveryMs / 1000} s`);
  for (const [name, list] of samples) {
    const t = rssTrend(list);
    const slope = t.slopeMbPerMin === null ? "-" : t.slopeMbPerMin.toFixed(2);
    const peak = peaks.get(name);
    console.log(`# soak rss ${name}: ${t.firstMb.toFixed(0)} -> ${t.lastMb.toFixed(0)} MB, peak ${peak == null ? t.peakMb.toFixed(0) : peak.toFixed(0)} MB, slope ${slope} MB/min over the last ${t.spanMin.toFixed(1)} min (${t.samples} samples)`);
  }
  for (const [name, list] of heaps) {
    const t = rssTrend(list);
    const slope = t.slopeMbPerMin === null ? "-" : t.slopeMbPerMin.toFixed(2);
    console.log(`# soak heap used ${name}: ${t.firstMb.toFixed(0)} -> ${t.lastMb.toFixed(0)} MB, peak ${t.peakMb.toFixed(0)} MB, slope ${slope} MB/min over the last ${t.spanMin.toFixed(1)} min (${t.samples} samples)`);
  }
  const delays = run.verdicts.flatMap((v) => (v.figures?.toActuationMs == null ? [] : [v.figures.toActuationMs]));
  const fmt = (ms: number | null) => (ms === null ? "-" : `${(ms / 1000).toFixed(1)} s`);
  console.log(`# soak fault-to-actuation over ${delays.length} of ${scenario.faults.length} faults: p50 ${fmt(percentile(delays, 50))}, p99 ${fmt(percentile(delays, 99))}, max ${fmt(percentile(delays, 100))}`);

  for (const p of processes) assert.equal(p.unexpectedExits, 0, `${p.name} exited without being killed\n${timeline}`);
  assert.deepEqual(run.verdicts.filter((v) => v.state !== "passed").map((v) => `${v.expectation.kind} ${v.expectation.kind === "decision" ? v.expectation.after : ""}: ${v.detail}`), [], timeline);
  for (const [name, list] of samples) {
    if (name === "lab+runner") continue;
    const t = rssTrend(list);
    if (t.spanMin < 5 || t.slopeMbPerMin === null) continue;
    assert.ok(t.slopeMbPerMin <= maxGrowthMbPerMin, `${name} grows ${t.slopeMbPerMin.toFixed(2)} MB/min over the last ${t.spanMin.toFixed(1)} min (bound ${maxGrowthMbPerMin})`);
  }
});
