import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { EdgeSeries, WindowAggregate } from "@meshloop/contracts";
import { aggregateId } from "@meshloop/contracts";
import { Counters, DEFAULT_SKETCH_OPTIONS, DependencyGraph } from "../src/index.ts";
import { T0 } from "./span-stream.ts";

const W = 5000;

function edge(caller: string, callee: string, requests: number, errors = 0, virtual = false): EdgeSeries {
  const c = new Counters(DEFAULT_SKETCH_OPTIONS);
  for (let i = 0; i < requests; i++) c.add(1, 5, 1, i < errors, true);
  return {
    caller: { service: caller, namespace: "shop" },
    callee: { service: callee, namespace: virtual ? null : "shop", virtual },
    connectionType: virtual ? "database" : "direct",
    counters: c.toWire(),
  };
}

function aggregate(service: string, windowStartMs: number, inbound: EdgeSeries[], outbound: EdgeSeries[]): WindowAggregate {
  return {
    id: aggregateId(service, windowStartMs, W, 0, 1),
    service,
    target: { mesh: "istio", namespace: "shop", service },
    windowStartMs,
    windowMs: W,
    series: [],
    routes: [],
    inbound,
    outbound,
    spans: { accepted: 0, late: 0, skewed: 0, duplicate: 0 },
    resources: [],
    completeness: { complete: true, missingPartitions: [] },
    part: { index: 0, count: 1 },
  };
}

describe("dependency graph", () => {
  test("an edge seen in its caller's and its callee's aggregates counts once per window", () => {
    const g = new DependencyGraph({ rateWindowMs: 10_000 });
    for (const start of [T0, T0 + W]) {
      g.observe(aggregate("frontend", start, [], [edge("frontend", "checkout", 10, 1)]));
      g.observe(aggregate("checkout", start, [edge("frontend", "checkout", 10, 1)], [edge("checkout", "postgres", 4, 0, true)]));
    }
    const json = g.toJSON();
    assert.equal(json.asOfMs, T0 + 2 * W);
    const fc = json.edges.find((e) => e.callee.service === "checkout")!;
    assert.equal(fc.requestsTotal, 20);
    assert.equal(fc.errorsTotal, 2);
    assert.equal(fc.rate, 2); // 20 requests in 10 s
    assert.equal(fc.errorRate, 0.1);
    assert.equal(fc.firstSeenMs, T0);
    assert.equal(fc.lastSeenMs, T0 + 2 * W);
    const db = json.edges.find((e) => e.callee.virtual)!;
    assert.equal(db.requestsTotal, 8);
    assert.deepEqual(json.nodes, [
      { service: "checkout", namespace: "shop", virtual: false },
      { service: "frontend", namespace: "shop", virtual: false },
      { service: "postgres", namespace: null, virtual: true },
    ]);
  });

  test("when copies differ (one aggregate missed a partition), the larger one counts", () => {
    const g = new DependencyGraph();
    g.observe(aggregate("checkout", T0, [edge("frontend", "checkout", 6)], []));
    g.observe(aggregate("frontend", T0, [], [edge("frontend", "checkout", 9)]));
    g.observe(aggregate("checkout", T0, [edge("frontend", "checkout", 7)], []));
    assert.equal(g.toJSON().edges[0]!.requestsTotal, 9);
  });

  test("the rate covers the recent windows only; zero-filled series are no traffic; idle edges expire", () => {
    const g = new DependencyGraph({ rateWindowMs: 10_000, ttlMs: 60_000 });
    g.observe(aggregate("frontend", T0, [], [edge("frontend", "checkout", 50), edge("frontend", "search", 5)]));
    for (let start = T0 + W; start <= T0 + 30_000; start += W) {
      g.observe(aggregate("frontend", start, [], [edge("frontend", "checkout", 1), edge("frontend", "search", 0)]));
    }
    const json = g.toJSON();
    const checkout = json.edges.find((e) => e.callee.service === "checkout")!;
    assert.equal(checkout.rate, 0.2);
    const search = json.edges.find((e) => e.callee.service === "search")!;
    assert.equal(search.rate, 0);
    assert.equal(search.errorRate, null);
    assert.equal(search.lastSeenMs, T0 + W, "zero traffic does not refresh it");
    assert.equal(g.expire(T0 + W + 60_000), 0);
    assert.equal(g.expire(T0 + W + 60_001), 1);
    assert.deepEqual(g.toJSON().edges.map((e) => e.callee.service), ["checkout"]);
  });

  test("filtered by service, and carried through a snapshot", () => {
    const g = new DependencyGraph();
    g.observe(aggregate("frontend", T0, [], [edge("frontend", "checkout", 3)]));
    g.observe(aggregate("checkout", T0, [], [edge("checkout", "payments", 2)]));
    g.observe(aggregate("search", T0, [], [edge("search", "index", 1)]));
    assert.deepEqual(g.toJSON({ service: "checkout" }).edges.map((e) => `${e.caller.service}->${e.callee.service}`), ["checkout->payments", "frontend->checkout"]);
    const restored = DependencyGraph.restore({}, JSON.parse(JSON.stringify(g.snapshot())) as ReturnType<DependencyGraph["snapshot"]>);
    assert.deepEqual(restored.toJSON(), g.toJSON());
    restored.observe(aggregate("checkout", T0, [edge("frontend", "checkout", 3)], []));
    assert.equal(restored.toJSON({ service: "frontend" }).edges[0]!.requestsTotal, 3, "the copy is still recognised after restore");
  });
});
