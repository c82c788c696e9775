import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { GaugeBatch, PartialAggregate, ProgressMark, WindowAggregate } from "@meshloop/contracts";
import { aggregateId, OTHER_ROUTE, partialId, progressId, windowAggregateSchema } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import { Counters, DEFAULT_SKETCH_OPTIONS, Stage2Merger } from "../src/index.ts";
import { T0 } from "./span-stream.ts";

const W = 5000;
const TARGET = { mesh: "istio", namespace: "shop", service: "checkout" } as const;

function counters(requests: number, latencyMs = 10, errors = 0): PartialAggregate["series"][number]["counters"] {
  const c = new Counters(DEFAULT_SKETCH_OPTIONS);
  for (let i = 0; i < requests; i++) c.add(1, latencyMs + i, i < errors ? 32 : 1, i < errors, true);
  return c.toWire();
}

interface PartialSpec {
  window?: number;
  partition: number;
  partitions?: number;
  requests?: number;
  instance?: string;
  routes?: string[];
  revision?: number;
  service?: string;
}

function partial(spec: PartialSpec): PartialAggregate {
  const start = spec.window ?? T0;
  const service = spec.service ?? "checkout";
  const requests = spec.requests ?? 1;
  return {
    id: partialId(service, start, W, spec.partition),
    service,
    target: { ...TARGET, service },
    windowStartMs: start,
    windowMs: W,
    series: [{ version: "1.0", instance: spec.instance ?? "ck-1", locality: { region: null, zone: null, cluster: null }, counters: counters(requests) }],
    routes: (spec.routes ?? ["/a"]).map((route) => ({ version: "1.0", route, overflow: false, counters: counters(requests) })),
    inbound: [],
    outbound: [
      {
        caller: { service, namespace: "shop" },
        callee: { service: "payments", namespace: "billing", virtual: false },
        connectionType: "direct",
        counters: counters(requests),
      },
    ],
    spans: { accepted: requests * 2, late: 0, skewed: 0, duplicate: 0 },
    partition: spec.partition,
    sourcePartitions: spec.partitions ?? 3,
    watermarkMs: start + W,
    revision: spec.revision ?? 0,
  };
}

function mark(partition: number, watermarkMs: number, partitions = 3, service = "checkout"): ProgressMark {
  return { id: progressId(service, partition, watermarkMs), service, partition, sourcePartitions: partitions, watermarkMs };
}

function check(aggregates: WindowAggregate[]): WindowAggregate[] {
  for (const a of aggregates) windowAggregateSchema.parse(a);
  return aggregates;
}

const total = (a: WindowAggregate) => a.series.reduce((n, s) => n + s.counters.requests, 0);

describe("stage 2: completeness", () => {
  test("a window is emitted once every partition has passed its end, with counts added and sketches merged", () => {
    const m = new Stage2Merger();
    assert.deepEqual(m.addPartial(partial({ partition: 0, requests: 3 })), []);
    assert.deepEqual(m.addPartial(partial({ partition: 2, requests: 4 })), []);
    // Partition 1 saw no checkout span in the window: only its progress mark.
    const out = check(m.addProgress(mark(1, T0 + W)));
    assert.equal(out.length, 1);
    const a = out[0]!;
    assert.equal(a.id, aggregateId("checkout", T0, W, 0, 1));
    assert.deepEqual(a.completeness, { complete: true, missingPartitions: [] });
    assert.equal(total(a), 7);
    assert.equal(a.series[0]!.counters.latency.count, 7);
    assert.equal(a.routes[0]!.counters.requests, 7);
    assert.equal(a.outbound[0]!.counters.requests, 7);
    assert.equal(a.spans.accepted, 14);
  });

  test("a partition that stops reporting: the window goes out after the timeout, naming it; its late partial is carried", () => {
    const m = new Stage2Merger({ completenessTimeoutMs: 30_000 });
    m.addPartial(partial({ partition: 0, requests: 2 }));
    m.addPartial(partial({ partition: 1, requests: 3 }));
    assert.deepEqual(m.addProgress(mark(0, T0 + 34_000)), []);
    const out = check(m.addProgress(mark(1, T0 + 35_000)));
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.completeness, { complete: false, missingPartitions: [2] });
    assert.equal(total(out[0]!), 5);
    assert.equal(m.stats().incompleteAggregates, 1);
    // Partition 2 comes back with its partial for the emitted window: carried into the next aggregate, late.
    assert.deepEqual(m.addPartial({ ...partial({ partition: 2, requests: 4 }), watermarkMs: T0 + W }), []);
    const next = check([...m.addProgress(mark(0, T0 + 2 * W)), ...m.addProgress(mark(1, T0 + 2 * W)), ...m.addProgress(mark(2, T0 + 2 * W))]);
    assert.equal(next.length, 1);
    assert.equal(next[0]!.windowStartMs, T0 + W);
    assert.equal(total(next[0]!), 4);
    assert.deepEqual(next[0]!.spans, { accepted: 8, late: 8, skewed: 0, duplicate: 0 });
    assert.equal(m.stats().carriedPartials, 1);
    // The same partial again is a duplicate, not counted twice.
    m.addPartial({ ...partial({ partition: 2, requests: 4 }), watermarkMs: T0 + W });
    assert.equal(m.stats().duplicatePartials, 1);
  });

  test("when no partition reports any more, the clock runs on with the ticks and times the window out", () => {
    const m = new Stage2Merger({ completenessTimeoutMs: 10_000 });
    m.addPartial(partial({ partition: 0 }));
    const clock = m.stats().clockMs!;
    // Ticks an hour later in wall time: the first only notes where the clock stopped.
    const wall = T0 + 3_600_000;
    assert.deepEqual(m.tick(wall), []);
    const due = T0 + W + 10_000 - clock; // wall time the clock must run for the window to time out
    assert.deepEqual(m.tick(wall + due - 1), []);
    const out = m.tick(wall + due);
    assert.deepEqual(out[0]!.completeness.missingPartitions, [1, 2]);
  });

  test("a partition behind but moving is waited for, however far ahead the others are; one that stopped is not", () => {
    const m = new Stage2Merger({ completenessTimeoutMs: 10_000, waitForMovingPartitions: true });
    const wall = T0 + 3_600_000;
    m.addPartial(partial({ partition: 0 }));
    m.addProgress(mark(1, T0 + 3_000_000)); // far ahead in event time (caught up with the present)
    assert.deepEqual(m.tick(wall), []);
    // Partition 2 reads a backlog: an hour behind, but moving at every tick.
    for (let i = 1; i <= 30; i++) {
      assert.deepEqual(m.addProgress(mark(2, T0 + i)), [], `progress ${i}`);
      assert.deepEqual(m.tick(wall + i * 1_000), [], `tick ${i}: partition 2 is alive`);
    }
    const done = m.addProgress(mark(2, T0 + W));
    assert.deepEqual(done[0]!.completeness, { complete: true, missingPartitions: [] });
    // A window partition 2 then never reports on: given up once it stood still for the timeout.
    m.addPartial(partial({ partition: 0, window: T0 + W }));
    m.addProgress(mark(0, T0 + 3_000_000));
    assert.deepEqual(m.tick(wall + 31_000), []);
    assert.deepEqual(m.tick(wall + 40_999), [], "still within the timeout of its last move");
    const out = m.tick(wall + 41_000);
    assert.deepEqual(out[0]!.completeness, { complete: false, missingPartitions: [2] });
  });

  test("a backlog replayed an hour late: while partitions report, the wall clock times nothing out", () => {
    const m = new Stage2Merger({ completenessTimeoutMs: 10_000 });
    const wall = T0 + 3_600_000;
    m.addPartial(partial({ partition: 0 }));
    assert.deepEqual(m.tick(wall), []);
    assert.deepEqual(m.addProgress(mark(1, T0 + W + 1_000)), []);
    assert.deepEqual(m.tick(wall + 20_000), [], "the clock moved since the last tick: no timeout");
    const out = m.addProgress(mark(2, T0 + W));
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.completeness, { complete: true, missingPartitions: [] });
  });

  test("duplicates are ignored and a higher revision replaces the partial before the window is emitted", () => {
    const m = new Stage2Merger();
    m.addPartial(partial({ partition: 0, requests: 2 }));
    m.addPartial(partial({ partition: 0, requests: 2 }));
    m.addPartial(partial({ partition: 0, requests: 5, revision: 1 }));
    m.addPartial(partial({ partition: 0, requests: 9, revision: 0 }));
    const out = [...m.addProgress(mark(1, T0 + W)), ...m.addProgress(mark(2, T0 + W))];
    assert.equal(total(out[0]!), 5);
    assert.equal(m.stats().duplicatePartials, 2);
    assert.equal(m.stats().revisedPartials, 1);
  });

  test("windows of another length and sketches of another accuracy are refused, before anything changed", () => {
    const m = new Stage2Merger({ windowMs: 10_000 });
    assert.throws(() => m.addPartial(partial({ partition: 0 })), ValidationError);
    const coarse = new Stage2Merger({ sketch: { relativeAccuracy: 0.02 } });
    const before = JSON.stringify(coarse.snapshot());
    assert.throws(() => coarse.addPartial(partial({ partition: 0 })), /relative accuracy/);
    assert.equal(JSON.stringify(coarse.snapshot()), before);
  });
});

describe("stage 2: series over time", () => {
  test("a known series without data is reported with zero requests until it expires; then the service goes quiet", () => {
    const m = new Stage2Merger({ seriesTtlMs: 20_000 });
    const out: WindowAggregate[] = [];
    out.push(...m.addPartial(partial({ partition: 0, partitions: 1, requests: 3 })));
    for (let t = T0 + W; t <= T0 + 60_000; t += W) out.push(...m.addProgress(mark(0, t, 1)));
    check(out);
    // Windows T0 .. T0+20s: the data window, then zero windows while the series are younger than 20 s.
    assert.deepEqual(out.map((a) => a.windowStartMs), [T0, T0 + 5000, T0 + 10_000, T0 + 15_000, T0 + 20_000]);
    const zero = out[1]!;
    assert.equal(zero.series.length, 1);
    assert.equal(zero.series[0]!.counters.requests, 0);
    assert.equal(zero.series[0]!.counters.latency.count, 0);
    assert.equal(zero.routes[0]!.counters.requests, 0);
    assert.equal(zero.outbound[0]!.counters.requests, 0);
    assert.equal(zero.spans.accepted, 0);
    // Traffic again: reported from its window on.
    const again = m.addPartial(partial({ partition: 0, partitions: 1, window: T0 + 60_000, requests: 1 }));
    assert.deepEqual(again.map((a) => [a.windowStartMs, total(a)]), [[T0 + 60_000, 1]]);
  });

  test("a canary instance appearing later is reported beside the baseline, and zero-filled when it stops", () => {
    const m = new Stage2Merger({ seriesTtlMs: 600_000 });
    m.addPartial(partial({ partition: 0, partitions: 1, instance: "ck-1" }));
    m.addProgress(mark(0, T0 + W, 1));
    // The partial's own watermark (its window's end) completes its window.
    const out = [...m.addPartial(partial({ partition: 0, partitions: 1, instance: "ck-canary", window: T0 + W })), ...m.addProgress(mark(0, T0 + 3 * W, 1))];
    assert.deepEqual(out[0]!.series.map((s) => [s.instance, s.counters.requests]), [["ck-1", 0], ["ck-canary", 1]]);
    assert.deepEqual(out[1]!.series.map((s) => [s.instance, s.counters.requests]), [["ck-1", 0], ["ck-canary", 0]]);
  });

  test("routes admitted by different partitions are capped again, the rest merged into other", () => {
    const m = new Stage2Merger({ routeLimit: 3 });
    m.addPartial(partial({ partition: 0, routes: ["/a", "/b", "/c"], requests: 2 }));
    m.addPartial(partial({ partition: 1, routes: ["/a", "/d", "/e"], requests: 1 }));
    const out = [...m.addPartial(partial({ partition: 2, routes: ["/a", "/b", "/f"], requests: 1 }))];
    const routes = out[0]!.routes.map((r) => [r.route, r.overflow, r.counters.requests]);
    assert.deepEqual(routes, [["/a", false, 4], ["/b", false, 3], ["/c", false, 2], [OTHER_ROUTE, true, 3]]);
    assert.equal(m.stats().foldedRoutes, 3);
  });

  test("resource gauges join the window by sample time, last value per instance and kind", () => {
    const m = new Stage2Merger();
    const batch = (samples: GaugeBatch["samples"]): GaugeBatch => ({ id: `gauges:checkout:${T0}:x`, service: "checkout", receivedAtMs: T0, samples });
    const sample = (kind: "cpuUtilization" | "memoryBytes", value: number, at: number, instance = "ck-1") => ({
      instance, namespace: "shop", version: "1.0", region: null, zone: null, cluster: null, metric: "m", kind, value, timeUnixMs: at,
    });
    m.addGauges(batch([sample("cpuUtilization", 0.5, T0 + 3000), sample("cpuUtilization", 0.2, T0 + 1000), sample("memoryBytes", 1e9, T0 + 100)]));
    m.addGauges(batch([sample("cpuUtilization", 0.9, T0 + 4000, "ck-2"), sample("cpuUtilization", 0.1, T0 + 6000)]));
    const out = check(m.addPartial(partial({ partition: 0, partitions: 1 })));
    assert.deepEqual(out[0]!.resources, [
      { instance: "ck-1", version: "1.0", cpuUtilization: 0.5, memoryUtilization: null, memoryBytes: 1e9 },
      { instance: "ck-2", version: "1.0", cpuUtilization: 0.9, memoryUtilization: null, memoryBytes: null },
    ]);
    m.addGauges(batch([sample("cpuUtilization", 0.3, T0 + 1000)]));
    assert.equal(m.stats().droppedGaugeSamples, 1, "a gauge for an emitted window is dropped");
  });
});

describe("stage 2: output", () => {
  test("a large aggregate is split into numbered parts under the size limit that together hold everything", () => {
    const m = new Stage2Merger({ maxAggregateBytes: 20_000, routeLimit: 1000 });
    const p = partial({ partition: 0, partitions: 1, routes: Array.from({ length: 60 }, (_, i) => `/route/${i}`), requests: 20 });
    const out = check(m.addPartial(p));
    const bytes = out.reduce((n, a) => n + Buffer.byteLength(JSON.stringify(a)), 0);
    assert.ok(out.length >= Math.ceil(bytes / 20_000), `${out.length} parts for ${bytes} bytes`);
    assert.ok(out.length >= 2);
    out.forEach((a, i) => {
      assert.deepEqual(a.part, { index: i, count: out.length });
      assert.equal(a.id, aggregateId("checkout", T0, W, i, out.length));
      assert.ok(Buffer.byteLength(JSON.stringify(a)) <= 20_000, `part ${i} is ${Buffer.byteLength(JSON.stringify(a))} bytes`);
      assert.deepEqual(a.completeness, { complete: true, missingPartitions: [] });
    });
    assert.equal(out.flatMap((a) => a.routes).length, 60);
    assert.equal(out.flatMap((a) => a.series).length, 1);
    assert.equal(out.flatMap((a) => a.outbound).length, 1);
    assert.deepEqual(out.map((a) => a.spans.accepted), [40, ...Array<number>(out.length - 1).fill(0)]);
  });

  test("the same input gives the same output, ids included, and a replay emits nothing twice", () => {
    const inputs = [partial({ partition: 0, requests: 3 }), partial({ partition: 1, requests: 1 }), partial({ partition: 2 })];
    const run = () => {
      const m = new Stage2Merger();
      return { m, out: inputs.flatMap((p) => m.addPartial(p)) };
    };
    const a = run();
    const b = run();
    assert.equal(JSON.stringify(a.out), JSON.stringify(b.out));
    assert.deepEqual(inputs.flatMap((p) => a.m.addPartial(p)), []);
  });

  test("a restored merger continues exactly where the snapshot was taken", () => {
    const steps: Array<(m: Stage2Merger) => WindowAggregate[]> = [
      (m) => m.addPartial(partial({ partition: 0, requests: 2 })),
      (m) => m.addPartial(partial({ partition: 1, requests: 2, instance: "ck-2" })),
      (m) => m.addProgress(mark(2, T0 + W)),
      (m) => m.addPartial(partial({ partition: 0, requests: 1, window: T0 + W })),
      (m) => m.addProgress(mark(0, T0 + 40_000)),
      (m) => m.addProgress(mark(1, T0 + 45_000)),
      (m) => m.addPartial(partial({ partition: 2, requests: 7, window: T0 + W })),
      (m) => m.addProgress(mark(2, T0 + 50_000)),
      (m) => m.tick(T0 + 200_000),
    ];
    const straight = new Stage2Merger();
    const expected = steps.flatMap((s) => s(straight));
    for (let cut = 1; cut < steps.length; cut++) {
      const first = new Stage2Merger();
      const before = steps.slice(0, cut).flatMap((s) => s(first));
      const restored = Stage2Merger.restore({}, JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<Stage2Merger["snapshot"]>);
      const after = steps.slice(cut).flatMap((s) => s(restored));
      assert.deepEqual([...before, ...after], expected, `cut at ${cut}`);
    }
    assert.ok(expected.length > 3);
  });
});
