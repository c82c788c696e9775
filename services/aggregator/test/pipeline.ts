import assert from "node:assert/strict";
import type { PartialAggregate, ProgressMark, SeriesCounters, WindowAggregate } from "@meshloop/contracts";
import { partialAggregateSchema, progressMarkSchema, windowAggregateSchema } from "@meshloop/contracts";
import type { SpanRecord, Stage1Output, Stage1OptionsInput, Stage2OptionsInput } from "../src/index.ts";
import { DDSketch, Stage1Partition, Stage2Merger } from "../src/index.ts";
import type { ExpectedCounters, Expectation } from "./span-stream.ts";
import { edgeLabel } from "./span-stream.ts";

/** Drives stage 1 and stage 2 as the Kafka wiring will, in one process, and collects what they publish. */

export const RESOLUTION = { mesh: "istio" } as const;

export type Message = { type: "partial"; data: PartialAggregate } | { type: "progress"; data: ProgressMark };

export function stage1For(partition: number, partitionCount: number, options: Partial<Stage1OptionsInput> = {}): Stage1Partition {
  return new Stage1Partition({ partition, partitionCount, resolution: RESOLUTION, ...options });
}

export function messagesOf(output: Stage1Output): Message[] {
  return [
    ...output.partials.map((data) => ({ type: "partial", data }) as const),
    ...output.progress.map((data) => ({ type: "progress", data }) as const),
  ];
}

/** Every record of every partition in timestamp order (as the partitions would be consumed side by side). */
export function interleave(records: SpanRecord[][]): SpanRecord[] {
  return records.flat().sort((a, b) => a.timestampMs - b.timestampMs || a.partition - b.partition);
}

export interface Stage1Run {
  readonly stages: Stage1Partition[];
  readonly messages: Message[];
}

export interface RunOptions {
  /** How far past the last record the partitions tick at the end (all windows close). */
  readonly flushMs?: number;
  /** Records and ticks to leave out (a partition that stops, say). */
  readonly skip?: (partition: number, timestampMs: number) => boolean;
  /** Tick every partition whenever the stream's clock crosses a multiple of this (caught-up partitions do). */
  readonly tickEveryMs?: number;
  /** A shared registry: every partition learns every service any partition has seen, at each tick. */
  readonly shareServices?: boolean;
  /** Stages to continue with (restored ones), instead of new ones. */
  readonly stages?: Stage1Partition[];
  /** The last tick a previous run made, to continue its tick schedule. */
  readonly startTickMs?: number;
}

/**
 * Folds the records into one stage 1 per partition, side by side in timestamp order, then ticks every partition a
 * second at a time up to `flushMs` past the last record so that all windows close.
 */
export function runStage1(records: SpanRecord[][], options: Partial<Stage1OptionsInput> = {}, run: RunOptions = {}): Stage1Run {
  const stages = run.stages ?? records.map((_, p) => stage1For(p, records.length, options));
  const skip = run.skip ?? (() => false);
  const messages: Message[] = [];
  const services = new Map<string, PartialAggregate["target"]>();
  const tickAll = (now: number) => {
    if (run.shareServices) for (const s of stages) for (const [service, target] of services) s.knowService(service, target, now);
    for (const s of stages) if (!skip(s.partition, now)) collectOutput(s.tick(now));
  };
  const collectOutput = (output: Stage1Output) => {
    for (const p of output.partials) services.set(p.service, p.target);
    messages.push(...messagesOf(output));
  };
  let last = 0;
  let lastTick = run.startTickMs ?? Number.NEGATIVE_INFINITY;
  for (const r of interleave(records)) {
    if (run.tickEveryMs !== undefined) {
      const boundary = Math.floor(r.timestampMs / run.tickEveryMs) * run.tickEveryMs;
      if (boundary > lastTick) {
        if (Number.isFinite(lastTick)) tickAll(boundary);
        lastTick = boundary;
      }
    }
    last = Math.max(last, r.timestampMs);
    if (skip(r.partition, r.timestampMs)) continue;
    collectOutput(stages[r.partition]!.foldRecord(r));
  }
  // Caught up: every partition ticks with the clock, a second at a time, side by side.
  for (let now = last + 1000; now <= last + (run.flushMs ?? 120_000); now += 1000) tickAll(now);
  return { stages, messages };
}

export function runStage2(messages: readonly Message[], options: Stage2OptionsInput = {}, merger = new Stage2Merger(options)): WindowAggregate[] {
  const out: WindowAggregate[] = [];
  for (const m of messages) out.push(...(m.type === "partial" ? merger.addPartial(m.data) : merger.addProgress(m.data)));
  return out;
}

/** Validates every message against the contract (the payloads must be publishable). */
export function validateAll(messages: readonly Message[], aggregates: readonly WindowAggregate[]): void {
  for (const m of messages) {
    if (m.type === "partial") partialAggregateSchema.parse(m.data);
    else progressMarkSchema.parse(m.data);
  }
  for (const a of aggregates) windowAggregateSchema.parse(a);
}

export interface CollectedWindow {
  instances: Map<string, SeriesCounters>;
  routes: Map<string, SeriesCounters>;
  inbound: Map<string, SeriesCounters>;
  outbound: Map<string, SeriesCounters>;
  accepted: number;
  late: number;
  skewed: number;
  duplicate: number;
  complete: boolean;
  missing: number[];
  parts: number;
}

/** Final aggregates by `service|windowStart`, parts put back together. */
export function collect(aggregates: readonly WindowAggregate[]): Map<string, CollectedWindow> {
  const out = new Map<string, CollectedWindow>();
  for (const a of aggregates) {
    const key = `${a.service}|${a.windowStartMs}`;
    let w = out.get(key);
    if (w === undefined) {
      w = {
        instances: new Map(),
        routes: new Map(),
        inbound: new Map(),
        outbound: new Map(),
        accepted: 0,
        late: 0,
        skewed: 0,
        duplicate: 0,
        complete: a.completeness.complete,
        missing: a.completeness.missingPartitions,
        parts: a.part.count,
      };
      out.set(key, w);
    }
    for (const s of a.series) put(w.instances, `${s.version}|${s.instance}`, s.counters);
    for (const r of a.routes) put(w.routes, `${r.version}|${r.route}|${r.overflow}`, r.counters);
    for (const e of a.inbound) put(w.inbound, edgeLabel(e.caller.service, e.caller.namespace, e.callee.service, e.callee.namespace, e.callee.virtual, e.connectionType), e.counters);
    for (const e of a.outbound) put(w.outbound, edgeLabel(e.caller.service, e.caller.namespace, e.callee.service, e.callee.namespace, e.callee.virtual, e.connectionType), e.counters);
    w.accepted += a.spans.accepted;
    w.late += a.spans.late;
    w.skewed += a.spans.skewed;
    w.duplicate += a.spans.duplicate;
  }
  return out;
}

function put(map: Map<string, SeriesCounters>, key: string, counters: SeriesCounters): void {
  assert.ok(!map.has(key), `series ${key} appears twice in one window`);
  map.set(key, counters);
}

/** The exact quantile the sketch approximates: the element of rank floor(q * (n - 1)), weights as repetitions. */
export function exactQuantile(durations: ReadonlyArray<[number, number]>, q: number): number {
  const sorted = [...durations].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((n, [, w]) => n + w, 0);
  const rank = Math.floor(q * (total - 1));
  let cumulative = 0;
  for (const [value, weight] of sorted) {
    cumulative += weight;
    if (cumulative > rank) return value;
  }
  return sorted.at(-1)![0];
}

export const QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;

/** Asserts counters equal the expected ones exactly, and every quantile within the relative accuracy. */
export function assertCounters(actual: SeriesCounters | undefined, expected: ExpectedCounters, what: string): void {
  assert.ok(actual !== undefined, `${what}: missing`);
  assert.equal(actual.requests, expected.requests, `${what}: requests`);
  assert.equal(actual.errors, expected.errors, `${what}: errors`);
  assert.deepEqual(actual.status, expected.status, `${what}: status classes`);
  assert.equal(actual.sampling, expected.samplingUnknown ? "unknown" : "known", `${what}: sampling`);
  assert.equal(actual.latency.count, expected.requests, `${what}: sketch count`);
  const sketch = DDSketch.fromWire(actual.latency, 4096);
  const accuracy = actual.latency.relativeAccuracy;
  for (const q of QUANTILES) {
    const exact = exactQuantile(expected.durations, q);
    const estimate = sketch.quantile(q);
    assert.ok(
      Math.abs(estimate - exact) <= accuracy * exact * (1 + 1e-9) + 1e-9,
      `${what}: p${q * 100} ${estimate} is not within ${accuracy * 100}% of ${exact}`,
    );
  }
  const max = Math.max(...expected.durations.map(([d]) => d));
  assert.ok(Math.abs(actual.latency.max - max) < 1e-3, `${what}: max ${actual.latency.max} != ${max}`);
}

/**
 * Asserts the final aggregates hold exactly the expected windows and series: every expected series with its exact
 * counts, no series with traffic that was not expected, the accepted span counts.
 */
export function assertMatches(collected: Map<string, CollectedWindow>, expected: Expectation): void {
  for (const [key, want] of expected.windows) {
    const got = collected.get(key);
    assert.ok(got !== undefined, `window ${key} was not emitted`);
    assert.equal(got.accepted, want.accepted, `${key}: accepted spans`);
    for (const list of ["instances", "routes", "inbound", "outbound"] as const) {
      for (const [series, counters] of want[list]) assertCounters(got[list].get(series), counters, `${key} ${list} ${series}`);
      for (const [series, counters] of got[list]) {
        if (counters.requests > 0) assert.ok(want[list].has(series), `${key} ${list}: unexpected series ${series}`);
      }
    }
  }
  for (const [key, got] of collected) {
    if (expected.windows.has(key)) continue;
    const traffic = [...got.instances.values(), ...got.routes.values(), ...got.inbound.values(), ...got.outbound.values()].some((c) => c.requests > 0);
    assert.ok(!traffic && got.accepted === 0, `window ${key} has traffic the stream did not have`);
  }
}

export interface Total {
  requests: number;
  errors: number;
  status: ExpectedCounters["status"];
  sketch: DDSketch;
}

/** Sums every series over all windows: `service|list|series`. Late data moves between windows, not out of these. */
export function totals(aggregates: readonly WindowAggregate[]): Map<string, Total> {
  const out = new Map<string, Total>();
  const add = (key: string, c: SeriesCounters) => {
    let t = out.get(key);
    if (t === undefined) {
      t = { requests: 0, errors: 0, status: { "2xx": 0, "3xx": 0, "4xx": 0, "401": 0, "403": 0, "5xx": 0, grpcErrors: 0 }, sketch: new DDSketch({ relativeAccuracy: c.latency.relativeAccuracy, maxBins: 4096 }) };
      out.set(key, t);
    }
    t.requests += c.requests;
    t.errors += c.errors;
    for (const k of Object.keys(t.status) as Array<keyof Total["status"]>) t.status[k] += c.status[k];
    t.sketch.addWire(c.latency);
  };
  for (const a of aggregates) {
    for (const s of a.series) add(`${a.service}|instances|${s.version}|${s.instance}`, s.counters);
    for (const r of a.routes) add(`${a.service}|routes|${r.version}|${r.route}|${r.overflow}`, r.counters);
    for (const e of a.inbound) add(`${a.service}|inbound|${edgeLabel(e.caller.service, e.caller.namespace, e.callee.service, e.callee.namespace, e.callee.virtual, e.connectionType)}`, e.counters);
    for (const e of a.outbound) add(`${a.service}|outbound|${edgeLabel(e.caller.service, e.caller.namespace, e.callee.service, e.callee.namespace, e.callee.virtual, e.connectionType)}`, e.counters);
  }
  for (const [key, t] of out) if (t.requests === 0) out.delete(key);
  return out;
}

/** The expected totals, in the same keys. */
export function expectedTotals(expected: Expectation): Map<string, ExpectedCounters> {
  const out = new Map<string, ExpectedCounters>();
  for (const [windowKey, w] of expected.windows) {
    const service = windowKey.split("|")[0]!;
    for (const list of ["instances", "routes", "inbound", "outbound"] as const) {
      for (const [series, c] of w[list]) {
        const key = `${service}|${list}|${series}`;
        const t = out.get(key) ?? { requests: 0, errors: 0, status: { "2xx": 0, "3xx": 0, "4xx": 0, "401": 0, "403": 0, "5xx": 0, grpcErrors: 0 }, samplingUnknown: false, durations: [] };
        t.requests += c.requests;
        t.errors += c.errors;
        for (const k of Object.keys(t.status) as Array<keyof ExpectedCounters["status"]>) t.status[k] += c.status[k];
        t.durations.push(...c.durations);
        out.set(key, t);
      }
    }
  }
  return out;
}

/** Totals equal exactly, every series present and no other; quantiles of the merged sketches within accuracy. */
export function assertTotals(actual: Map<string, Total>, expected: Map<string, ExpectedCounters>, keyFilter: (key: string) => boolean = () => true): void {
  const keys = (m: Map<string, unknown>) => [...m.keys()].filter(keyFilter).sort();
  assert.deepEqual(keys(actual), keys(expected));
  for (const key of keys(expected)) {
    const a = actual.get(key)!;
    const e = expected.get(key)!;
    assert.equal(a.requests, e.requests, `${key}: requests`);
    assert.equal(a.errors, e.errors, `${key}: errors`);
    assert.deepEqual(a.status, e.status, `${key}: status`);
    for (const q of QUANTILES) {
      const exact = exactQuantile(e.durations, q);
      assert.ok(Math.abs(a.sketch.quantile(q) - exact) <= 0.01 * exact * (1 + 1e-9) + 1e-9, `${key}: p${q * 100}`);
    }
  }
}

export function sumSpans(aggregates: readonly WindowAggregate[]): { accepted: number; late: number; skewed: number; duplicate: number } {
  const s = { accepted: 0, late: 0, skewed: 0, duplicate: 0 };
  for (const a of aggregates) {
    s.accepted += a.spans.accepted;
    s.late += a.spans.late;
    s.skewed += a.spans.skewed;
    s.duplicate += a.spans.duplicate;
  }
  return s;
}
