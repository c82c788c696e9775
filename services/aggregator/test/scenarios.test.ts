import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SpanRecord, Stage1Snapshot } from "../src/index.ts";
import { Stage1Partition, Stage2Merger } from "../src/index.ts";
import type { Message } from "./pipeline.ts";
import {
  assertMatches,
  assertTotals,
  collect,
  expectedTotals,
  RESOLUTION,
  runStage1,
  runStage2,
  sumSpans,
  totals,
  validateAll,
} from "./pipeline.ts";
import { R, Rng, shopTraces, T0, toRecords } from "./span-stream.ts";

function acceptedOf(expected: ReturnType<typeof shopTraces>["expected"]): number {
  return [...expected.windows.values()].reduce((n, w) => n + w.accepted, 0);
}

describe("scenarios over several partitions", () => {
  test("late and out-of-order data: totals stay exact, late spans are counted", () => {
    const { spans, expected } = shopTraces({ seed: 21, traces: 1200, spreadMs: 60_000 });
    const rng = new Rng(5);
    // An exporter that retried: some traces reach the ingest 8-40 s after they ended (beyond the 5 s lateness,
    // within the 60 s skew bound), all their spans together, so that they still pair.
    const delays = new Map<string, number>();
    let delayed = 0;
    for (const s of spans) {
      let delay = delays.get(s.traceId);
      if (delay === undefined) delays.set(s.traceId, (delay = rng.chance(0.05) ? 8000 + rng.int(32_000) : 0));
      if (delay > 0) {
        s.exportAtMs = s.endMs + delay;
        delayed++;
      }
    }
    const records = toRecords(spans, 4);
    // And the records of each partition slightly out of timestamp order (several ingest instances, clocks a second
    // apart): neighbours swap.
    let swapped = 0;
    for (const list of records) {
      for (let i = 1; i < list.length; i++) {
        if (list[i]!.timestampMs - list[i - 1]!.timestampMs <= 1000 && list[i]!.timestampMs > list[i - 1]!.timestampMs && rng.chance(0.3)) {
          [list[i - 1], list[i]] = [list[i]!, list[i - 1]!];
          swapped++;
          i++;
        }
      }
    }
    assert.ok(swapped > 10);
    const merger = new Stage2Merger();
    const { stages, messages } = runStage1(records, {}, { tickEveryMs: 1000 });
    const aggregates = runStage2(messages, {}, merger);
    validateAll(messages, aggregates);
    assertTotals(totals(aggregates), expectedTotals(expected));
    assert.equal(merger.stats().carriedPartials, 0, "the partitions tick along: stage 2 never gave up on one");
    const spanCounts = sumSpans(aggregates);
    assert.equal(spanCounts.accepted, acceptedOf(expected));
    const late = stages.reduce((n, s) => n + s.stats().late, 0);
    assert.ok(late > 0 && late <= delayed, `late ${late} of ${delayed} delayed`);
    // Stage 1 counts the unresolvable cron's late spans too; partials only have the others.
    assert.ok(spanCounts.late > 0 && spanCounts.late <= late && late - spanCounts.late <= stages.reduce((n, s) => n + s.stats().unresolved, 0));
    assert.equal(spanCounts.skewed, 0);
  });

  test("idle partitions: ticks close their windows; with a shared service registry stage 2 need not wait", () => {
    const { spans, expected } = shopTraces({ seed: 3, traces: 6, spreadMs: 30_000 });
    const records = toRecords(spans, 8);
    assert.ok(records.some((r) => r.length === 0), "some partitions never get a record");
    // Without the registry, idle partitions never mention the services: stage 2 waits for the timeout.
    const alone = runStage1(records, {}, { tickEveryMs: 1000 });
    const timedOut = runStage2(alone.messages);
    assert.ok(timedOut.some((a) => !a.completeness.complete));
    assertMatches(collect(timedOut), expected);
    // With it, every partition reports progress for every service, and every window is complete.
    const shared = runStage1(records, {}, { tickEveryMs: 1000, shareServices: true });
    const aggregates = runStage2(shared.messages);
    validateAll(shared.messages, aggregates);
    assert.ok(aggregates.length > 0 && aggregates.every((a) => a.completeness.complete));
    assertMatches(collect(aggregates), expected);
  });

  test("a partition that stops reporting: windows close without it after the timeout; when it comes back, totals are exact", () => {
    const { spans, expected } = shopTraces({ seed: 5, traces: 1000, spreadMs: 60_000 });
    const records = toRecords(spans, 3);
    const cut = T0 + 25_000;
    const dead = (partition: number, t: number) => partition === 2 && t >= cut;
    // Partition 2's stage stops at `cut`; its state as of then was checkpointed.
    const live = runStage1(records.map((list, p) => (p === 2 ? list.filter((r) => r.timestampMs < cut) : list)), {}, { tickEveryMs: 1000, skip: dead });
    const checkpoint = JSON.parse(JSON.stringify(live.stages[2]!.snapshot())) as Stage1Snapshot;
    const merger = new Stage2Merger({ completenessTimeoutMs: 30_000 });
    const first = runStage2(live.messages, {}, merger);
    const incomplete = first.filter((a) => !a.completeness.complete);
    assert.ok(incomplete.length > 0);
    // Complete up to where partition 2's watermark got (its last record time - lateness - a waiting CLIENT span).
    assert.ok(incomplete.every((a) => a.completeness.missingPartitions.join() === "2" && a.windowStartMs + 5000 > cut - 10_000));
    assert.ok(first.filter((a) => a.windowStartMs + 5000 <= cut - 10_000).every((a) => a.completeness.complete));

    // The partition's new owner restores the checkpoint and reads on from there.
    const restored = Stage1Partition.restore({ partition: 2, partitionCount: 3, resolution: RESOLUTION }, checkpoint);
    const rest: SpanRecord[][] = [[], [], records[2]!.filter((r) => r.timestampMs >= cut)];
    const catchUp = runStage1(rest, {}, { stages: [stage1Idle(0), stage1Idle(1), restored], skip: (p) => p !== 2, flushMs: 180_000 });
    const second = runStage2(catchUp.messages, {}, merger);
    // Stage 2 also needs the other partitions' clocks to move on for the windows after the carried data.
    const final = [...first, ...second, ...merger.tick(T0 + 1_000_000)];
    validateAll([...live.messages, ...catchUp.messages], final);
    assertTotals(totals(final), expectedTotals(expected));
    assert.equal(sumSpans(final).accepted, acceptedOf(expected));
    assert.ok(merger.stats().carriedPartials > 0);
    assert.ok(sumSpans(final).late > 0);
  });

  test("duplicates injected into the spans topic are removed, and counted", () => {
    const { spans, expected } = shopTraces({ seed: 8, traces: 800, spreadMs: 40_000 });
    const records = toRecords(spans, 3);
    const rng = new Rng(9);
    let injected = 0;
    let injectedResolvable = 0;
    for (const list of records) {
      const copies = list.filter(() => rng.chance(0.15)).map((r) => ({ ...r, timestampMs: r.timestampMs + rng.int(20_000) }));
      for (const c of copies) {
        const stats = spanStats(c);
        injected += stats.spans;
        injectedResolvable += stats.resolvable;
      }
      list.push(...copies);
      list.sort((a, b) => a.timestampMs - b.timestampMs);
    }
    assert.ok(injected > 100);
    const { stages, messages } = runStage1(records);
    const aggregates = runStage2(messages);
    validateAll(messages, aggregates);
    assertMatches(collect(aggregates), expected);
    assert.equal(stages.reduce((n, s) => n + s.stats().duplicates, 0), injected);
    // The unresolvable cron's duplicates are in no partial: it has none.
    assert.ok(injectedResolvable < injected);
    assert.equal(sumSpans(aggregates).duplicate, injectedResolvable);
  });

  test("misrouted records are counted and their spans still counted in the series", () => {
    const { spans, expected } = shopTraces({ seed: 13, traces: 400, spreadMs: 30_000 });
    const records = toRecords(spans, 3);
    // A producer with another partitioner: every fifth record of partition 0 lands on partition 1.
    const moved = records[0]!.filter((_, i) => i % 5 === 0);
    records[0] = records[0]!.filter((_, i) => i % 5 !== 0);
    records[1] = [...records[1]!, ...moved.map((r) => ({ ...r, partition: 1 }))].sort((a, b) => a.timestampMs - b.timestampMs);
    const { stages, messages } = runStage1(records);
    const aggregates = runStage2(messages);
    assert.equal(stages[1]!.stats().misrouted, moved.reduce((n, r) => n + countSpans(r), 0));
    // Series do not depend on pairing, so they stay exact; edges of split traces may not pair.
    assertTotals(totals(aggregates), expectedTotals(expected), (key) => key.includes("|instances|") || key.includes("|routes|"));
  });

  test("skewed clocks: a host 10 minutes ahead is re-timed to its record timestamps, nothing is lost", () => {
    const { spans, expected } = shopTraces({ seed: 17, traces: 600, spreadMs: 30_000 });
    let skewed = 0;
    const shifted = spans.map((s) => {
      if (s.resource !== R.ck2) return s;
      skewed++;
      return { ...s, startMs: s.startMs + 600_000, endMs: s.endMs + 600_000 };
    });
    const { stages, messages } = runStage1(toRecords(shifted, 2));
    const aggregates = runStage2(messages);
    validateAll(messages, aggregates);
    assert.equal(stages.reduce((n, s) => n + s.stats().skewed, 0), skewed);
    assert.equal(sumSpans(aggregates).skewed, skewed);
    assertTotals(totals(aggregates), expectedTotals(expected));
  });

  test("snapshot and restore of every stage mid-stream gives identical results", () => {
    const { spans } = shopTraces({ seed: 23, traces: 900, spreadMs: 40_000, sampled: true });
    const records = toRecords(spans, 3);
    const options = { pairingTtlMs: 3000 };
    const straight = runStage1(records, options, { tickEveryMs: 1000 });
    const expected = runStage2(straight.messages);

    const cut = T0 + 20_000;
    const firstHalf = runStage1(records.map((l) => l.filter((r) => r.timestampMs < cut)), options, { tickEveryMs: 1000, flushMs: 0 });
    // The first half must end on the same tick as the straight run had at that point.
    const merger = new Stage2Merger();
    const before = runStage2(firstHalf.messages, {}, merger);
    const stages = firstHalf.stages.map((s) =>
      Stage1Partition.restore({ partition: s.partition, partitionCount: 3, resolution: RESOLUTION, ...options }, JSON.parse(JSON.stringify(s.snapshot())) as Stage1Snapshot),
    );
    const restoredMerger = Stage2Merger.restore({}, JSON.parse(JSON.stringify(merger.snapshot())) as ReturnType<Stage2Merger["snapshot"]>);
    const secondHalf = runStage1(records.map((l) => l.filter((r) => r.timestampMs >= cut)), options, { tickEveryMs: 1000, stages, startTickMs: lastTickBefore(records, cut) });
    const after = runStage2(secondHalf.messages, {}, restoredMerger);
    assert.deepEqual(messagesKey([...firstHalf.messages, ...secondHalf.messages]), messagesKey(straight.messages));
    assert.deepEqual([...before, ...after], expected);
  });
});

/** Spans of a record stage 1 reads, and of those the ones of resolvable services (which partials count). */
function countSpans(r: SpanRecord): number {
  return spanStats(r).spans;
}

function spanStats(r: SpanRecord): { spans: number; resolvable: number } {
  const s = new Stage1Partition({ partition: r.partition, partitionCount: r.partitionCount, resolution: RESOLUTION });
  s.foldRecord(r);
  const stats = s.stats();
  return { spans: stats.spans, resolvable: stats.spans - stats.unresolved };
}

function stage1Idle(partition: number): Stage1Partition {
  return new Stage1Partition({ partition, partitionCount: 3, resolution: RESOLUTION });
}

function lastTickBefore(records: SpanRecord[][], cut: number): number {
  const before = records.flat().filter((r) => r.timestampMs < cut).map((r) => r.timestampMs);
  return Math.floor(Math.max(...before) / 1000) * 1000;
}

function messagesKey(messages: readonly Message[]): string[] {
  return messages.map((m) => JSON.stringify(m));
}
