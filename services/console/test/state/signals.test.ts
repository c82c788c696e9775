import assert from "node:assert/strict";
import { test } from "node:test";
import { GRAPH_RATE_WINDOW_MS, SIGNAL_RETENTION_MS, SignalBook } from "../../src/state/signals.ts";
import { aggregate, T0, WINDOW_MS } from "../support/fixtures.ts";

const near = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= expected * 0.02, `${what}: ${actual} is not about ${expected}`);

test("the parts of a window add up per version, with the quantiles of the merged sketches; a redelivered part counts once", () => {
  const book = new SignalBook();
  const part0 = aggregate({ service: "payments", windowStartMs: T0, versions: { v1: { requests: 100, errors: 1, latencyMs: 10 } }, part: { index: 0, count: 2 } });
  const part1 = aggregate({ service: "payments", windowStartMs: T0, versions: { v1: { requests: 100, errors: 3, latencies: [...new Array<number>(90).fill(10), ...new Array<number>(10).fill(500)] } }, part: { index: 1, count: 2 } });
  assert.equal(book.observe(part0).length, 1);
  const [update] = book.observe(part1);
  assert.equal(book.observe(part1).length, 0, "redelivered");
  assert.equal(update!.point.requests, 200);
  assert.equal(update!.point.errors, 4);
  assert.equal(update!.point.rate, 200 / (WINDOW_MS / 1000));
  assert.equal(update!.point.errorPct, 2);
  near(update!.point.p50, 10, "p50");
  near(update!.point.p99, 500, "p99 of the merged sketch (5% of all requests take 500 ms)");
  const [series] = book.series();
  assert.deepEqual([series!.targetKey, series!.service, series!.version, series!.points.length], ["lab/lab/payments", "payments", "v1", 1]);
});

test("an edge from its caller's and its callee's aggregate counts once; rates are over the last minute", () => {
  const book = new SignalBook();
  for (let w = 0; w < 12; w++) {
    const start = T0 + w * WINDOW_MS;
    const errors = w >= 6 ? 10 : 0;
    book.observe(aggregate({ service: "checkout", windowStartMs: start, versions: { v1: { requests: 100, errors: 0 } }, outbound: [["payments", 100, errors]] }));
    book.observe(aggregate({ service: "payments", windowStartMs: start, versions: { v1: { requests: 100, errors } }, inbound: [["checkout", 100, errors]] }));
  }
  const graph = book.graph();
  assert.deepEqual(graph.nodes.map((n) => n.service), ["checkout", "payments"]);
  assert.equal(graph.edges.length, 1);
  const edge = graph.edges[0]!;
  assert.equal(edge.requestsTotal, 1200, "each window once, not twice");
  assert.equal(edge.rate, (6 * 100) / (GRAPH_RATE_WINDOW_MS / 1000));
  assert.equal(edge.errorRate, 0.1, "the last minute had 10% errors, the whole history 5%");
  assert.equal(graph.asOfMs, T0 + 12 * WINDOW_MS);
});

test("a service without edges is still a node", () => {
  const book = new SignalBook();
  book.observe(aggregate({ service: "lonely", windowStartMs: T0, versions: { v1: { requests: 5, errors: 0 } } }));
  assert.deepEqual(book.graph().nodes, [{ service: "lonely", namespace: null, virtual: false }]);
});

test("windows older than ten minutes of event time are forgotten, and parts that old are not taken", () => {
  const book = new SignalBook();
  book.observe(aggregate({ service: "payments", windowStartMs: T0, versions: { v1: { requests: 10, errors: 0 } }, outbound: [["ledger", 10, 0]] }));
  const later = T0 + SIGNAL_RETENTION_MS + 2 * WINDOW_MS;
  book.observe(aggregate({ service: "payments", windowStartMs: later, versions: { v1: { requests: 20, errors: 0 } } }));
  assert.deepEqual(book.series()[0]!.points.map((p) => p.windowStartMs), [later]);
  assert.equal(book.graph().edges.length, 0);
  assert.deepEqual(book.observe(aggregate({ service: "payments", windowStartMs: T0 + WINDOW_MS, versions: { v1: { requests: 10, errors: 0 } } })), []);
  assert.equal(book.horizonMs, later + WINDOW_MS);
});

test("a late part of a window whose sketch was dropped adds its counts and leaves its quantiles", () => {
  const book = new SignalBook();
  book.observe(aggregate({ service: "payments", windowStartMs: T0, versions: { v1: { requests: 100, errors: 0, latencyMs: 10 } }, part: { index: 0, count: 2 } }));
  book.observe(aggregate({ service: "payments", windowStartMs: T0 + 5 * WINDOW_MS, versions: { v1: { requests: 100, errors: 0, latencyMs: 10 } } }));
  const [late] = book.observe(aggregate({ service: "payments", windowStartMs: T0, versions: { v1: { requests: 100, errors: 50, latencyMs: 900 } }, part: { index: 1, count: 2 } }));
  assert.equal(late!.point.requests, 200);
  assert.equal(late!.point.errorPct, 25);
  near(late!.point.p99, 10, "p99 unchanged");
});
