import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PartialAggregate } from "@meshloop/contracts";
import { OTHER_ROUTE, partialAggregateSchema, partialId, progressMarkSchema } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { Stage1Output, Stage1Partition } from "../src/index.ts";
import { Stage1Partition as Stage1 } from "../src/index.ts";
import { RESOLUTION, stage1For } from "./pipeline.ts";
import type { GenSpan } from "./span-stream.ts";
import { hand, R, recordOf, T0, traceIdOn } from "./span-stream.ts";

const W = 5000;

function fold(stage: Stage1Partition, spans: GenSpan[], timestampMs: number): Stage1Output {
  const out = stage.foldRecord(recordOf(spans, timestampMs, stage.partition, 1));
  for (const p of out.partials) partialAggregateSchema.parse(p);
  for (const m of out.progress) progressMarkSchema.parse(m);
  return out;
}

function only(out: Stage1Output, service: string, windowStartMs: number): PartialAggregate {
  const found = out.partials.filter((p) => p.service === service && p.windowStartMs === windowStartMs);
  assert.equal(found.length, 1, `one partial for ${service} at ${windowStartMs}, got ${found.length}`);
  return found[0]!;
}

function requests(p: PartialAggregate): number {
  return p.series.reduce((n, s) => n + s.counters.requests, 0);
}

describe("stage 1: windows and watermark", () => {
  test("a window closes when the record-time watermark passes its end, with marks for every known service", () => {
    const s = stage1For(0, 1);
    // checkout serves at T0+1s; payments at T0+6s (next window).
    let out = fold(s, [hand({ endMs: T0 + 1000 }), hand({ resource: R.pay1, endMs: T0 + 6000 })], T0 + 6500);
    assert.deepEqual(out.partials, [], "watermark T0+1.5s has not passed T0+5s");
    out = fold(s, [], T0 + 9999);
    assert.deepEqual(out.partials, []);
    out = fold(s, [], T0 + 10_000); // watermark = T0 + 5 s: window [T0, T0+5s) closes
    const p = only(out, "checkout", T0);
    assert.equal(out.partials.length, 1);
    assert.equal(p.id, partialId("checkout", T0, W, 0));
    assert.equal(p.watermarkMs, T0 + 5000);
    assert.equal(p.revision, 0);
    assert.deepEqual(p.target, { mesh: "istio", namespace: "shop", service: "checkout" });
    assert.equal(requests(p), 1);
    // Progress for payments too, though it had no span in that window.
    assert.deepEqual(out.progress.map((m) => [m.service, m.watermarkMs]), [["checkout", T0 + 5000], ["payments", T0 + 5000]]);
  });

  test("tick closes the windows of an idle, caught-up partition; knowService makes a service known without spans", () => {
    const s = stage1For(0, 1);
    fold(s, [hand({ endMs: T0 + 1000 })], T0 + 2000);
    s.knowService("frontend", { mesh: "istio", namespace: "shop", service: "frontend" }, T0);
    assert.deepEqual(s.tick(T0 + 9000).partials, []);
    const out = s.tick(T0 + 10_500);
    assert.equal(only(out, "checkout", T0).watermarkMs, T0 + 5500);
    assert.deepEqual(out.progress.map((m) => m.service), ["checkout", "frontend"]);
    // Between window boundaries a tick says nothing new.
    assert.deepEqual(s.tick(T0 + 11_000), { partials: [], progress: [] });
    assert.equal(s.tick(T0 + 15_000).progress.length, 2);
  });

  test("an idle partition that never saw a record still reports progress for services it was told about", () => {
    const busy = stage1For(0, 4);
    busy.foldRecord(recordOf([hand({ traceId: traceIdOn(0, 4) })], T0 + 1500, 0, 4));
    assert.deepEqual(busy.knownServices().map((k) => [k.service, k.target.namespace]), [["checkout", "shop"]]);
    const s = stage1For(3, 4);
    s.knowService("checkout", { mesh: "istio", namespace: "shop", service: "checkout" }, T0);
    const out = s.tick(T0 + 60_000);
    assert.deepEqual(out.progress.map((m) => [m.service, m.partition, m.sourcePartitions, m.watermarkMs]), [["checkout", 3, 4, T0 + 55_000]]);
  });

  test("a span whose end time is off from its record timestamp by more than the skew bound is re-timed", () => {
    const s = stage1For(0, 1, { skewBoundMs: 30_000 });
    // A host clock 10 minutes behind, and one 2 minutes ahead.
    fold(s, [hand({ endMs: T0 + 1000 - 600_000 }), hand({ endMs: T0 + 1000 + 120_000 }), hand({ endMs: T0 + 2000 })], T0 + 3000);
    const out = s.tick(T0 + 20_000);
    const p = only(out, "checkout", T0);
    assert.equal(requests(p), 3, "all three in the record's window");
    assert.deepEqual(p.spans, { accepted: 3, late: 0, skewed: 2, duplicate: 0 });
    assert.equal(s.stats().skewed, 2);
  });

  test("a skewed span cannot close windows early for everyone else", () => {
    const s = stage1For(0, 1);
    fold(s, [hand({ endMs: T0 + 1000 })], T0 + 2000);
    // A span from an hour in the future: re-timed, and the watermark stays on record time.
    const out = fold(s, [hand({ endMs: T0 + 3_600_000 })], T0 + 2500);
    assert.deepEqual(out.partials, []);
    assert.equal(s.stats().watermarkMs, T0 + 2500 - 5000);
  });

  test("a span for a closed window is late: counted in the oldest open window, totals exact", () => {
    const s = stage1For(0, 1);
    fold(s, [hand({ endMs: T0 + 1000 })], T0 + 2000);
    const closed = fold(s, [], T0 + 11_000); // closes [T0, T0+5s)
    assert.equal(requests(only(closed, "checkout", T0)), 1);
    // A span of the closed window, delayed by an exporter retry (10 s off: within the 60 s skew bound).
    fold(s, [hand({ endMs: T0 + 1500 })], T0 + 11_500);
    const out = s.tick(T0 + 20_000);
    const p = only(out, "checkout", T0 + 5000);
    assert.equal(requests(p), 1);
    assert.deepEqual(p.spans, { accepted: 1, late: 1, skewed: 0, duplicate: 0 });
    assert.equal(s.stats().late, 1);
  });

  test("spans of one window arriving out of order across records are counted together", () => {
    const s = stage1For(0, 1);
    fold(s, [hand({ endMs: T0 + 4000 })], T0 + 4500);
    fold(s, [hand({ endMs: T0 + 500 })], T0 + 5000);
    fold(s, [hand({ endMs: T0 + 3000 })], T0 + 4800); // an older record timestamp: no harm
    const out = s.tick(T0 + 10_000);
    assert.equal(requests(only(out, "checkout", T0)), 3);
  });
});

describe("stage 1: series", () => {
  test("instance series from SERVER and CONSUMER spans, by version and instance, with locality", () => {
    const s = stage1For(0, 1);
    fold(
      s,
      [
        hand({ resource: R.fe1, attributes: { "http.route": "/a", "http.response.status_code": 200 } }),
        hand({ resource: R.fe1, attributes: { "http.route": "/a", "http.response.status_code": 503 }, status: SpanStatusCode.ERROR }),
        hand({ resource: R.fe2, attributes: { "http.route": "/b", "http.response.status_code": 403 } }),
        hand({ resource: R.fe2, kind: SpanKind.CONSUMER }),
        hand({ resource: R.fe2, kind: SpanKind.INTERNAL }),
        hand({ resource: R.fe2, kind: SpanKind.CLIENT }),
      ],
      T0 + 1500,
    );
    const p = only(s.tick(T0 + 20_000), "frontend", T0);
    const fe1 = p.series.find((x) => x.instance === "fe-1")!;
    const fe2 = p.series.find((x) => x.instance === "fe-2")!;
    assert.deepEqual(fe1.locality, { region: "eu-west-1", zone: "eu-west-1a", cluster: null });
    assert.equal(fe1.version, "1.0.0");
    assert.equal(fe1.counters.requests, 2);
    assert.equal(fe1.counters.errors, 1);
    assert.equal(fe1.counters.status["5xx"], 1);
    assert.equal(fe2.counters.requests, 2, "SERVER and CONSUMER, not INTERNAL or CLIENT");
    assert.deepEqual({ "4xx": fe2.counters.status["4xx"], "403": fe2.counters.status["403"] }, { "4xx": 1, "403": 1 });
    assert.deepEqual(p.routes.map((r) => [r.route, r.counters.requests]), [["/a", 2], ["/b", 1]]);
    assert.deepEqual(p.spans, { accepted: 5, late: 0, skewed: 0, duplicate: 0 });
    assert.equal(s.stats().ignoredSpans, 1);
  });

  test("configurable gRPC error codes", () => {
    const spans = [hand({ attributes: { "rpc.grpc.status_code": 5, "rpc.service": "s", "rpc.method": "m" } })];
    const byDefault = stage1For(0, 1);
    fold(byDefault, spans, T0 + 1500);
    assert.equal(only(byDefault.tick(T0 + 20_000), "checkout", T0).series[0]!.counters.errors, 0);
    const strict = stage1For(0, 1, { grpcErrorCodes: [5] });
    fold(strict, spans, T0 + 1500);
    const p = only(strict.tick(T0 + 20_000), "checkout", T0);
    assert.equal(p.series[0]!.counters.errors, 1);
    assert.equal(p.routes[0]!.route, "s/m");
  });

  test("a flood of distinct routes: the cap holds, the rest goes to other, memory stays bounded", () => {
    const s = stage1For(0, 1, { routeLimit: 50 });
    for (let batch = 0; batch < 20; batch++) {
      const spans = Array.from({ length: 250 }, (_, i) => hand({ endMs: T0 + 1000, attributes: { "http.route": `/users/${batch}-${i}` } }));
      fold(s, spans, T0 + 1500);
    }
    const stats = s.stats();
    assert.equal(stats.routeOverflow, 5000 - 50);
    assert.ok(stats.openSeries <= 50 + 1 + 1, `open series ${stats.openSeries}`);
    const p = only(s.tick(T0 + 20_000), "checkout", T0);
    assert.equal(p.routes.length, 51);
    const other = p.routes.find((r) => r.overflow)!;
    assert.equal(other.route, OTHER_ROUTE);
    assert.equal(other.counters.requests, 4950);
    assert.equal(p.routes.reduce((n, r) => n + r.counters.requests, 0), 5000, "nothing lost");
    // The first 50 keep their series in later windows; new ones still overflow.
    fold(s, [hand({ endMs: T0 + 21_000, attributes: { "http.route": "/users/0-0" } }), hand({ endMs: T0 + 21_000, attributes: { "http.route": "/new" } })], T0 + 21_500);
    const later = only(s.tick(T0 + 40_000), "checkout", T0 + 20_000);
    assert.deepEqual(later.routes.map((r) => r.route).sort(), ["/users/0-0", OTHER_ROUTE].sort());
  });

  test("routes unseen for the series TTL free their place", () => {
    const s = stage1For(0, 1, { routeLimit: 1, seriesTtlMs: 60_000 });
    fold(s, [hand({ endMs: T0 + 1000, attributes: { "http.route": "/old" } })], T0 + 1500);
    s.tick(T0 + 200_000);
    fold(s, [hand({ endMs: T0 + 201_000, attributes: { "http.route": "/new" } })], T0 + 201_500);
    const p = only(s.tick(T0 + 220_000), "checkout", T0 + 200_000);
    assert.deepEqual(p.routes.map((r) => [r.route, r.overflow]), [["/new", false]]);
  });

  test("sampling: weights from tracestate, unknown without", () => {
    const s = stage1For(0, 1);
    fold(s, [hand({ traceState: "ot=th:c" }), hand({ traceState: "ot=th:8" })], T0 + 1500);
    fold(s, [hand({ resource: R.ck2 })], T0 + 1500);
    const p = only(s.tick(T0 + 20_000), "checkout", T0);
    const ck1 = p.series.find((x) => x.instance === "ck-1")!;
    const ck2 = p.series.find((x) => x.instance === "ck-2")!;
    assert.deepEqual([ck1.counters.requests, ck1.counters.sampling, ck1.counters.latency.count], [6, "known", 6]);
    assert.deepEqual([ck2.counters.requests, ck2.counters.sampling], [1, "unknown"]);
    assert.equal(p.spans.accepted, 3, "span counts are not weighted");
  });

  test("sampler attributes weigh spans without a tracestate threshold", () => {
    const s = stage1For(0, 1);
    fold(s, [hand({ attributes: { "sampling.probability": 0.1 } }), hand({ attributes: { "sampler.type": "probabilistic", "sampler.param": 0.5 } })], T0 + 1500);
    const p = only(s.tick(T0 + 20_000), "checkout", T0);
    assert.equal(p.series[0]!.counters.requests, 12);
    assert.equal(p.series[0]!.counters.sampling, "known");
  });
});

describe("stage 1: duplicates, misrouting, bad input", () => {
  test("a record delivered twice counts once; the duplicates are counted", () => {
    const s = stage1For(0, 1);
    const spans = [hand(), hand(), hand({ kind: SpanKind.CLIENT, attributes: { "peer.service": "x" } })];
    const record = recordOf(spans, T0 + 1500);
    s.foldRecord(record);
    s.foldRecord({ ...record, timestampMs: T0 + 2500 });
    // And once more, with one span repeated inside the record itself.
    s.foldRecord(recordOf([spans[0]!, spans[0]!], T0 + 3000));
    const p = only(s.tick(T0 + 20_000), "checkout", T0);
    assert.equal(requests(p), 2);
    assert.deepEqual(p.spans, { accepted: 3, late: 0, skewed: 0, duplicate: 5 });
    assert.equal(s.stats().duplicates, 5);
    assert.equal(p.outbound.length, 1);
    assert.equal(p.outbound[0]!.counters.requests, 1, "the duplicate CLIENT span made no second edge");
  });

  test("the dedup memory is bounded: beyond its capacity the oldest generation is dropped", () => {
    const s = stage1For(0, 1, { dedup: { horizonMs: 300_000, maxEntries: 4096, generations: 4 } });
    const first = hand();
    s.foldRecord(recordOf([first], T0 + 1500));
    for (let i = 0; i < 10; i++) s.foldRecord(recordOf(Array.from({ length: 1000 }, () => hand()), T0 + 1500));
    const stats = s.stats();
    assert.ok(stats.dedupEntries <= 4096, `${stats.dedupEntries} remembered`);
    assert.ok(stats.dedupEarlyRotations > 0);
    s.foldRecord(recordOf([first], T0 + 1600));
    assert.equal(s.stats().duplicates, 0, "the first span was forgotten (the horizon shrank under load)");
  });

  test("spans whose trace id belongs to another partition are counted as misrouted, and still aggregated", () => {
    const s = stage1For(1, 4);
    const mine = traceIdOn(1, 4);
    const other = traceIdOn(2, 4);
    s.foldRecord(recordOf([hand({ traceId: mine }), hand({ traceId: other })], T0 + 1500, 1, 4));
    assert.equal(s.stats().misrouted, 1);
    const p = only(s.tick(T0 + 20_000), "checkout", T0);
    assert.equal(requests(p), 2);
    assert.equal(p.partition, 1);
    assert.equal(p.sourcePartitions, 4);
  });

  test("a malformed record throws and changes nothing", () => {
    const s = stage1For(0, 1);
    s.foldRecord(recordOf([hand()], T0 + 1500));
    const before = JSON.stringify(s.snapshot());
    const good = recordOf([hand(), hand()], T0 + 9000).value;
    // Cut in the middle of the second span: the first would be readable, but the record is refused whole.
    const cut = Buffer.from(good.subarray(0, good.length - 20));
    assert.throws(() => s.foldRecord({ value: cut, timestampMs: T0 + 9000, partition: 0, partitionCount: 1 }), ValidationError);
    assert.equal(JSON.stringify(s.snapshot()), before);
    assert.throws(() => s.foldRecord({ value: good, timestampMs: T0, partition: 1, partitionCount: 2 }), ValidationError);
  });

  test("an unresolvable service gets no partial, but its calls show on the callee's inbound edges", () => {
    const s = stage1For(0, 1);
    const client = hand({ resource: R.cron, kind: SpanKind.CLIENT, endMs: T0 + 1000 });
    const server = hand({ traceId: client.traceId, parentSpanId: client.spanId, endMs: T0 + 999 });
    fold(s, [client], T0 + 1500);
    fold(s, [server], T0 + 1600);
    const out = s.tick(T0 + 20_000);
    assert.deepEqual(out.partials.map((p) => p.service), ["checkout"]);
    const p = only(out, "checkout", T0);
    assert.deepEqual(p.inbound.map((e) => [e.caller, e.callee.service]), [[{ service: "Legacy Cron", namespace: null }, "checkout"]]);
    assert.equal(s.stats().unresolved, 1);
  });
});

describe("stage 1: edges", () => {
  test("a CLIENT span pairs with its SERVER child, in either order, counted under both services", () => {
    for (const serverFirst of [false, true]) {
      const s = stage1For(0, 1);
      const client = hand({ resource: R.fe1, kind: SpanKind.CLIENT, endMs: T0 + 4990, attributes: { "http.response.status_code": 404 }, status: SpanStatusCode.ERROR });
      const server = hand({ resource: R.ck1, traceId: client.traceId, parentSpanId: client.spanId, endMs: T0 + 4980, attributes: { "http.response.status_code": 404 } });
      fold(s, [serverFirst ? server : client], T0 + 5100);
      fold(s, [serverFirst ? client : server], T0 + 7000);
      const out = s.tick(T0 + 30_000);
      const fe = only(out, "frontend", T0);
      const ck = only(out, "checkout", T0);
      assert.equal(fe.outbound.length, 1);
      assert.deepEqual(fe.outbound, ck.inbound);
      const edge = fe.outbound[0]!;
      assert.deepEqual(edge.caller, { service: "frontend", namespace: "shop" });
      assert.deepEqual(edge.callee, { service: "checkout", namespace: "shop", virtual: false });
      assert.equal(edge.connectionType, "direct");
      assert.equal(edge.counters.requests, 1);
      assert.equal(edge.counters.errors, 0, "a 404 is not the callee's failure");
      assert.equal(edge.counters.status["4xx"], 1);
      assert.equal(s.stats().pairing.paired, 1);
    }
  });

  test("an unpaired CLIENT span that names its peer becomes a virtual edge after the TTL; others are counted", () => {
    const s = stage1For(0, 1, { pairingTtlMs: 2000 });
    fold(
      s,
      [
        hand({ resource: R.ck1, kind: SpanKind.CLIENT, endMs: T0 + 1000, attributes: { "peer.service": "stripe", "server.address": "api.stripe.com" } }),
        hand({ resource: R.pay1, kind: SpanKind.CLIENT, endMs: T0 + 1000, attributes: { "db.system": "postgresql" }, status: SpanStatusCode.ERROR }),
        hand({ resource: R.ck1, kind: SpanKind.CLIENT, endMs: T0 + 1000 }),
        hand({ resource: R.ck1, kind: SpanKind.PRODUCER, endMs: T0 + 1000, attributes: { "messaging.system": "kafka" } }),
        hand({ resource: R.pay1, endMs: T0 + 1000, parentSpanId: "00000000000000ff" }),
      ],
      T0 + 1500,
    );
    assert.equal(s.stats().pendingSpans, 5);
    s.tick(T0 + 7900); // watermark T0 + 2.9 s: not yet (end + TTL = T0 + 3 s)
    assert.equal(s.stats().pendingSpans, 5);
    s.tick(T0 + 8000);
    assert.equal(s.stats().pendingSpans, 0);
    const out = s.tick(T0 + 30_000);
    const ck = only(out, "checkout", T0);
    assert.deepEqual(
      ck.outbound.map((e) => [e.callee.service, e.callee.virtual, e.connectionType]),
      [["kafka", true, "messaging_system"], ["stripe", true, "virtual_node"]],
    );
    const pay = only(out, "payments", T0);
    assert.deepEqual(pay.outbound.map((e) => [e.callee.service, e.connectionType, e.counters.errors]), [["postgresql", "database", 1]]);
    assert.deepEqual(s.stats().pairing, { paired: 0, expiredClients: 4, virtualEdges: 3, expiredServers: 1, dropped: 0 });
  });

  test("a window with a waiting CLIENT span stays open until it pairs or expires", () => {
    const s = stage1For(0, 1, { pairingTtlMs: 3000 });
    const client = hand({ resource: R.fe1, kind: SpanKind.CLIENT, endMs: T0 + 4500 });
    fold(s, [client, hand({ resource: R.fe1, endMs: T0 + 4600 })], T0 + 5000);
    // Watermark T0 + 5 s passes the window's end, but the CLIENT span waits until T0 + 7.5 s.
    let out = fold(s, [], T0 + 10_000);
    assert.deepEqual(out.partials, []);
    assert.deepEqual(out.progress, []);
    // Its child arrives late in record time: still in time to pair, in the CLIENT span's window.
    out = fold(s, [hand({ resource: R.ck1, traceId: client.traceId, parentSpanId: client.spanId, endMs: T0 + 4400 })], T0 + 12_000);
    assert.equal(only(out, "frontend", T0).outbound.length, 1);
    assert.equal(only(out, "checkout", T0).inbound.length, 1);
    assert.equal(out.progress[0]!.watermarkMs, T0 + 7000);
  });

  test("partners in two records of one timestamp pair even when that timestamp moves the watermark far", () => {
    const s = stage1For(0, 1);
    fold(s, [hand({ endMs: T0 + 60_000 })], T0 + 63_000); // watermark T0 + 58 s
    const client = hand({ resource: R.ck1, kind: SpanKind.CLIENT, endMs: T0 + 47_573, attributes: { "server.address": "payments" } });
    const server = hand({ resource: R.pay1, traceId: client.traceId, parentSpanId: client.spanId, endMs: T0 + 47_572 });
    // Both late, delivered after a retry: the first record alone moves the watermark to T0 + 62 s.
    fold(s, [server], T0 + 67_000);
    fold(s, [client], T0 + 67_000);
    assert.deepEqual(s.stats().pairing, { paired: 1, expiredClients: 0, virtualEdges: 0, expiredServers: 0, dropped: 0 });
  });

  test("the pairing store is bounded: spans beyond it are dropped from pairing and counted", () => {
    const s = stage1For(0, 1, { maxPendingSpans: 10 });
    fold(s, Array.from({ length: 15 }, () => hand({ kind: SpanKind.CLIENT, attributes: { "peer.service": "x" } })), T0 + 1500);
    const stats = s.stats();
    assert.equal(stats.pendingSpans, 10);
    assert.equal(stats.pairing.dropped, 5);
  });
});

describe("stage 1: snapshot and restore", () => {
  test("a restored partition continues exactly where the snapshot was taken", () => {
    const spans = (i: number): GenSpan[] => {
      const client = hand({ resource: R.fe1, kind: SpanKind.CLIENT, endMs: T0 + i * 700, attributes: { "server.address": "ck" }, traceState: i % 2 ? "ot=th:8" : undefined });
      return [
        client,
        hand({ resource: R.ck1, traceId: client.traceId, parentSpanId: client.spanId, endMs: T0 + i * 700 - 1, attributes: { "http.route": `/r${i % 3}` } }),
        hand({ resource: R.pay1, kind: SpanKind.CLIENT, endMs: T0 + i * 700, attributes: { "db.system": "redis" } }),
      ];
    };
    // Records with the server half of each trace one record later, to leave pending spans at the snapshot.
    const records = Array.from({ length: 40 }, (_, i) => recordOf([...spans(i).slice(0, 1), ...(i > 0 ? spans(i - 1).slice(1) : [])], T0 + i * 700 + 300));
    const run = (stage: Stage1Partition, from: number, to: number) =>
      records.slice(from, to).flatMap((r) => {
        const out = stage.foldRecord(r);
        return [...out.partials, ...out.progress];
      });
    const straight = stage1For(0, 1);
    const expected = [...run(straight, 0, 40), ...(() => { const o = straight.tick(T0 + 100_000); return [...o.partials, ...o.progress]; })()];

    const first = stage1For(0, 1);
    const before = run(first, 0, 23);
    const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<Stage1Partition["snapshot"]>;
    assert.ok(snapshot.pairing.pending.length > 0 && snapshot.windows.length > 0, "mid-stream state");
    const restored = Stage1.restore({ partition: 0, partitionCount: 1, resolution: RESOLUTION }, snapshot);
    const after = [...run(restored, 23, 40), ...(() => { const o = restored.tick(T0 + 100_000); return [...o.partials, ...o.progress]; })()];
    assert.deepEqual([...before, ...after], expected);
    assert.deepEqual(restored.stats(), straight.stats());
  });

  test("a snapshot of other options is refused", () => {
    const s = stage1For(0, 1);
    assert.throws(() => Stage1.restore({ partition: 0, partitionCount: 1, resolution: RESOLUTION, windowMs: 10_000 }, s.snapshot()), /windows/);
  });
});
