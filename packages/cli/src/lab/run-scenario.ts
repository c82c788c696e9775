import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import type { Consumer } from "@meshloop/bus";
import { decodeEnvelope, fromCloudEventMessage } from "@meshloop/contracts";
import type { ActuationResult, WindowAggregate } from "@meshloop/contracts";
import { defaultTopology, judge, settled, startLab, startLoad } from "@meshloop/lab";
import type { ExportedSpans, Lab, LoadOptions, RunRecord, Scenario, SeenDecision, Topology, Verdict } from "@meshloop/lab";
import { freePort, startLoop } from "./loops.ts";
import type { Loop, LoopMode } from "./loops.ts";

export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly record: RunRecord;
  readonly verdicts: Verdict[];
  readonly aggregates: WindowAggregate[];
  readonly wallMs: number;
  /** Per service and version, what the lab's exporters were told, final (read after the lab flushed and stopped). */
  readonly exported: ExportedSpans[];
  /** With `settle`: whether every service's windows up to the bound were read as complete aggregates, and how long
   *  that took; the services still short of it otherwise. Null without `settle` or when the run failed. */
  readonly settled: { ok: boolean; waitedMs: number; pending: string[] } | null;
}

export interface RunOptions {
  /** A readable line per event (faults, decisions, actuations, status). */
  readonly log: (line: string) => void;
  /** Extra environment for the loop (e.g. MESHLOOP_LOG_LEVEL). */
  readonly env?: Record<string, string>;
  /** Embedded (default): every service in this process on the in-memory bus; distributed: processes on Kafka and Redis. */
  readonly mode?: LoopMode;
  /** Runs beside the scenario once the load started (the chaos suite's faults on the loop itself); the run lasts at
   *  least until it is done. */
  readonly during?: (run: DuringRun) => Promise<void>;
  /**
   * After the lab stopped (its last spans flushed), keep reading aggregates until every service that has any has a
   * complete aggregate for a window starting at least `beyondMs` after the lab stopped, or `timeoutMs` passed. Stage 2
   * emits a service's windows in order, and a complete window means every spans partition passed its end, so every
   * span stamped before that bound is then in an aggregate already read (for span accounting). Spans stamped ahead
   * of their arrival (clock skew within the aggregator's bound) land in windows up to the skew ahead: add it.
   */
  readonly settle?: { beyondMs: number; timeoutMs: number };
  /** False: final aggregates are read but not kept (a long soak would hold every window of every service). */
  readonly keepAggregates?: boolean;
}

export interface DuringRun {
  readonly loop: Loop;
  readonly lab: Lab;
  readonly ingestUrl: string;
  readonly startedAtMs: number;
  readonly log: (line: string) => void;
  /** The final aggregates read so far (the array the run returns, growing). */
  readonly aggregates: readonly WindowAggregate[];
}

/** The default topology with the scenario's changes of versions and latencies. */
export function scenarioTopology(scenario: Scenario): Topology {
  const topology = defaultTopology();
  for (const service of topology.services) {
    const versions = scenario.topology.versions[service.name];
    if (versions !== undefined) service.versions = versions.map((v) => ({ ...v }));
    const latency = scenario.topology.latency[service.name];
    if (latency !== undefined) service.latency = { ...latency };
  }
  return topology;
}

/**
 * Runs one scenario on the loop (embedded: in-memory bus and store, every service in this process; distributed: the
 * services as processes on Kafka and Redis) with the lab beside it: the loop's lab actuator is the only writer of the
 * lab's route table. Ends when every expectation is settled or the scenario's duration is over, whichever is first.
 */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioRun> {
  const dir = mkdtempSync(join(tmpdir(), `meshloop-${scenario.name}-`));
  const policies = join(dir, "policies.yaml");
  writeFileSync(policies, stringify({ policies: scenario.policies }));
  const topology = scenarioTopology(scenario);
  // The lab's exporters need the ingest's address and the loop's lab actuator the lab's: the ingest port is chosen first.
  const ingestPort = await freePort();
  const lab = await startLab({ topology, ingestUrl: `http://127.0.0.1:${ingestPort}`, seed: scenario.seed, exportDelayMs: 100 });
  const env = {
    MESHLOOP_LOG_LEVEL: "warn",
    MESHLOOP_HTTP_PORT: "0",
    MESHLOOP_INGEST_HTTP_PORT: String(ingestPort),
    MESHLOOP_INGEST_GRPC_PORT: "0",
    MESHLOOP_AGGREGATOR_WINDOW: `${scenario.window}ms`,
    MESHLOOP_AGGREGATOR_LATENESS: `${scenario.window}ms`,
    MESHLOOP_AGGREGATOR_COMPLETENESS_TIMEOUT: `${3 * scenario.window}ms`,
    MESHLOOP_AGGREGATOR_MESH: "lab",
    MESHLOOP_AGGREGATOR_DEFAULT_NAMESPACE: topology.namespace,
    MESHLOOP_DECISION_POLICY_FILES: policies,
    MESHLOOP_DECISION_PROPAGATION_DELAY: "200ms",
    MESHLOOP_LAB_ADMIN_URL: lab.adminUrl,
    ...options.env,
  };
  let loop: Loop | null = null;
  const record: { startedAtMs: number; faults: { name: string; onsetMs: number }[]; decisions: SeenDecision[]; actuations: ActuationResult[] } = { startedAtMs: 0, faults: [], decisions: [], actuations: [] };
  const aggregates: WindowAggregate[] = [];
  let reader: Consumer | null = null;
  let load: ReturnType<typeof startLoad> | null = null;
  let ran = false;
  let settledAggregates: ScenarioRun["settled"] = null;
  const wallStart = Date.now();
  const since = (ms: number) => `+${((ms - record.startedAtMs) / 1000).toFixed(1)}s`.padStart(7);
  try {
    loop = await startLoop(options.mode ?? { kind: "embedded" }, env);
    const { bus, topics } = loop;
    reader = bus.consumer({
      groupId: `scenario-${scenario.name}-${Date.now()}`,
      topics: [topics.decisions, topics.actuations, topics.aggregates],
      fromBeginning: true,
      handler: async (batch) => {
        for (const message of batch.records) {
          if (message.topic === topics.aggregates) {
            if (options.keepAggregates !== false) aggregates.push(decodeEnvelope(message.value ?? "", "meshloop.aggregate").data);
            continue;
          }
          const event = fromCloudEventMessage(message);
          if (event.type === "dev.meshloop.decision.v1") {
            const d = event.data;
            record.decisions.push({ decision: d, seenAtMs: Date.now() });
            const weights = d.desiredState.weights === null ? "" : ` weights ${JSON.stringify(d.desiredState.weights)}`;
            options.log(`${since(Date.now())} decision ${d.target.service} gen ${d.generation} [${d.controllers.join(",")}]${d.requiresApproval ? " (awaiting approval)" : ""}: ${d.reason}${weights}`);
          } else if (event.type === "dev.meshloop.actuation.v1") {
            record.actuations.push(event.data);
            options.log(`${since(Date.now())} actuation ${event.data.target.service} gen ${event.data.generation}: ${event.data.status}${event.data.status === "applied" ? "" : ` (${event.data.reason})`}`);
          } else if (event.type === "dev.meshloop.pause.v1") {
            // A paused target publishes no decision: the timeline says why it went quiet.
            options.log(`${since(Date.now())} ${event.data.paused ? "pause" : "resume"} ${event.data.target?.service ?? "(all targets)"} by ${event.data.by}: ${event.data.reason}`);
          }
        }
      },
    });
    await reader.start();
    record.startedAtMs = Date.now();
    options.log(`${since(record.startedAtMs)} ${scenario.name}: ${scenario.description}`);
    for (const f of scenario.faults) {
      const fromMs = record.startedAtMs + f.at;
      lab.faults.add({ id: f.name, scope: f.scope, effect: f.effect, fromMs, ...(f.for === undefined ? {} : { untilMs: fromMs + f.for }) });
      record.faults.push({ name: f.name, onsetMs: fromMs });
    }
    load = startLoad(lab, loadOptions(scenario));
    // Settled in callbacks, so kept in an object the loop below reads.
    const during: { done: boolean; error: Error | null } = { done: options.during === undefined, error: null };
    if (options.during !== undefined) {
      const ctx: DuringRun = { loop, lab, ingestUrl: `http://127.0.0.1:${ingestPort}`, startedAtMs: record.startedAtMs, log: (line) => options.log(`${since(Date.now())} ${line}`), aggregates };
      options.during(ctx).then(
        () => (during.done = true),
        (error: unknown) => {
          during.error = error instanceof Error ? error : new Error(String(error));
          during.done = true;
        },
      );
    }
    const announced = new Set<string>();
    let verdicts = judge(scenario, record, false);
    while (Date.now() - record.startedAtMs < scenario.duration) {
      for (const f of scenario.faults) {
        if (!announced.has(f.name) && Date.now() >= record.startedAtMs + f.at) {
          announced.add(f.name);
          options.log(`${since(record.startedAtMs + f.at)} fault ${f.name}: ${describeFault(f.scope, f.effect)}${f.for === undefined ? "" : ` for ${f.for / 1000}s`}`);
        }
      }
      verdicts = judge(scenario, record, false);
      if (settled(verdicts) && during.done) break;
      await sleep(200);
    }
    while (!during.done) await sleep(200);
    if (during.error !== null) throw during.error;
    ran = true;
  } finally {
    // Every step runs even if one fails (a loop left running would outlive the run); the first failure is thrown.
    // The lab flushes its last spans while the ingest still listens, and the loop runs on until they are aggregated.
    const settleUntil = async () => {
      if (options.settle === undefined || !ran) return;
      const labStoppedAtMs = Date.now();
      const result = await settleAggregates(aggregates, labStoppedAtMs + options.settle.beyondMs, options.settle.timeoutMs);
      settledAggregates = result;
      options.log(`${since(Date.now())} aggregates ${result.ok ? "settled" : `not settled (${result.pending.join(", ")})`} after ${(result.waitedMs / 1000).toFixed(1)} s`);
    };
    await inOrder([() => load?.stop(), () => lab.stop(), settleUntil, () => reader?.stop(), () => loop?.stop(), () => rmSync(dir, { recursive: true, force: true })]);
  }
  return { scenario, record, verdicts: judge(scenario, record, true), aggregates, wallMs: Date.now() - wallStart, exported: lab.exportedSpans(), settled: settledAggregates };
}

/** Waits until every service with aggregates has a complete one for a window starting at or after `boundMs`. */
async function settleAggregates(aggregates: readonly WindowAggregate[], boundMs: number, timeoutMs: number): Promise<{ ok: boolean; waitedMs: number; pending: string[] }> {
  const started = Date.now();
  const pending = (): string[] => {
    const done = new Set<string>();
    const all = new Set<string>();
    for (const a of aggregates) {
      all.add(a.service);
      if (a.completeness.complete && a.windowStartMs >= boundMs) done.add(a.service);
    }
    return [...all].filter((service) => !done.has(service)).sort();
  };
  while (Date.now() - started < timeoutMs) {
    if (aggregates.length > 0 && pending().length === 0) return { ok: true, waitedMs: Date.now() - started, pending: [] };
    await sleep(250);
  }
  return { ok: false, waitedMs: Date.now() - started, pending: aggregates.length === 0 ? ["(no aggregates at all)"] : pending() };
}

async function inOrder(steps: readonly (() => unknown)[]): Promise<void> {
  let first: unknown = null;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== null) throw first instanceof Error ? first : new Error("a step of stopping the run failed", { cause: first });
}

function loadOptions(scenario: Scenario): LoadOptions {
  const p = scenario.load.profile;
  const profile: LoadOptions["profile"] =
    p.kind === "constant"
      ? p
      : p.kind === "ramp"
        ? { kind: "ramp", fromRps: p.fromRps, toRps: p.toRps, durationMs: p.over }
        : { kind: "spike", baseRps: p.baseRps, peakRps: p.peakRps, atMs: p.at, durationMs: p.for };
  return {
    profile,
    seed: scenario.seed,
    ...(scenario.load.routes === undefined ? {} : { routes: scenario.load.routes.map((r) => ({ ...r })) }),
    ...(scenario.load.extraCallers === undefined ? {} : { extraCallers: scenario.load.extraCallers.map(({ after, ...c }) => ({ ...c, afterMs: after })) }),
  };
}

function describeFault(scope: Scenario["faults"][number]["scope"], effect: Scenario["faults"][number]["effect"]): string {
  const where = [scope.service, scope.version, scope.instanceId, scope.route].filter((x) => x !== undefined).join(" ");
  switch (effect.kind) {
    case "errors":
      return `${where} answers ${Math.round(effect.rate * 100)}% with ${effect.status}`;
    case "latency":
      return `${where} latency median ${effect.medianMs} ms, p99 ${effect.p99Ms} ms`;
    case "capacity":
      return `${where} saturates beyond ${effect.maxConcurrency} in flight`;
    case "crash":
      return `${where} crashes`;
    case "clock-skew":
      return `${where} clock off by ${effect.offsetMs} ms`;
  }
}
