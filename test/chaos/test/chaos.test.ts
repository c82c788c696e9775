// The chaos suite, short version (it runs inside `./meshloop test`): the distributed loop — ingest, two aggregator
// instances, decision and the lab actuator as processes on the real Kafka and Redis — drives the lab through a canary
// that turns bad, while every service is SIGKILLed and restarted in turn, one aggregator is paused (SIGSTOP) past its
// consumer session and resumed after its partitions moved, and a second client sends malformed and oversized OTLP.
// Asserted: the bad canary is still rolled back within 45 windows of its fault; no decision is applied twice or out of order; every
// bad request gets a 4xx and none a 5xx; nothing exits but what was killed. Peak RSS per service is printed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runScenario } from "@meshloop/cli";
import type { DuringRun } from "@meshloop/cli";
import { loadScenario } from "@meshloop/lab";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, uniqueName } from "@meshloop/test-harness";

const file = new URL("./bad-canary-under-chaos.yaml", import.meta.url).pathname;
const scenario = loadScenario(readFileSync(file, "utf8"), file);
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
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? null : Math.round(Number(kb) / 1024);
  } catch {
    return null;
  }
}

test("a bad canary is rolled back while the loop's processes are killed, paused and fed garbage", { timeout: 300_000 }, async () => {
  const lines: string[] = [];
  const bad: Garbage = { sent: 0, byStatus: {} };
  const rss: Record<string, number | null> = {};
  const chaos = async ({ loop, ingestUrl, startedAtMs, log }: DuringRun): Promise<void> => {
    const at = (s: number) => sleep(Math.max(0, startedAtMs + s * 1000 - Date.now()));
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
  const mode = { kind: "distributed" as const, kafkaBrokers: lease.kafkaBrokers, redisUrl: lease.redisUrl, prefix: uniqueName("chaos"), aggregators: 2 };
  const run = await runScenario(scenario, {
    log: (line) => lines.push(line),
    mode,
    during: chaos,
    env: { MESHLOOP_AGGREGATOR_SESSION_TIMEOUT: "6s", MESHLOOP_DECISION_SESSION_TIMEOUT: "6s" },
  });
  const timeline = `timeline:\n${lines.join("\n")}`;
  for (const v of run.verdicts) {
    if (v.figures !== undefined) console.log(`# chaos rollback: ${v.figures.windows} windows after the fault; decision +${v.figures.toDecisionMs} ms, applied ${v.figures.toActuationMs === null ? "-" : `+${v.figures.toActuationMs} ms`}`);
  }
  console.log(`# chaos garbage: ${bad.sent} bad requests, answers ${JSON.stringify(bad.byStatus)}; peak RSS MB ${JSON.stringify(rss)}`);
  assert.deepEqual(run.verdicts.filter((v) => v.state !== "passed").map((v) => `${v.expectation.kind}: ${v.detail}`), [], timeline);

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
