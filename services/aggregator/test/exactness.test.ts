import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertMatches, collect, runStage1, runStage2, validateAll } from "./pipeline.ts";
import { shopTraces, toRecords } from "./span-stream.ts";

describe("two stages over generated span streams", () => {
  test("counts are exact and quantiles within 1%, spread over 4 partitions", () => {
    const { spans, expected } = shopTraces({ seed: 7, traces: 1500, spreadMs: 60_000 });
    const records = toRecords(spans, 4);
    assert.ok(records.every((r) => r.length > 0), "every partition gets records");
    const { stages, messages } = runStage1(records);
    const aggregates = runStage2(messages);
    validateAll(messages, aggregates);
    assertMatches(collect(aggregates), expected);

    const pairing = stages.map((s) => s.stats().pairing);
    const sum = (f: (p: (typeof pairing)[number]) => number) => pairing.reduce((n, p) => n + f(p), 0);
    assert.equal(sum((p) => p.paired), expected.pairs);
    assert.equal(sum((p) => p.virtualEdges), expected.virtualEdges);
    assert.equal(sum((p) => p.expiredClients), expected.unpairedClients);
    assert.equal(sum((p) => p.expiredServers), expected.unpairedServers);
    assert.ok(aggregates.every((a) => a.completeness.complete), "every window complete");
    assert.ok(stages.every((s) => s.stats().misrouted === 0 && s.stats().duplicates === 0 && s.stats().late === 0));
  });

  test("sampled traces weigh their adjusted counts (tracestate thresholds)", () => {
    const { spans, expected } = shopTraces({ seed: 11, traces: 800, spreadMs: 30_000, sampled: true });
    const { messages } = runStage1(toRecords(spans, 3));
    const aggregates = runStage2(messages);
    validateAll(messages, aggregates);
    assertMatches(collect(aggregates), expected);
    const weighted = aggregates.flatMap((a) => a.series).some((s) => !Number.isInteger(s.counters.requests / 2) || s.counters.sampling === "unknown");
    assert.ok(weighted, "the stream mixes weights and unknown sampling");
  });
});
