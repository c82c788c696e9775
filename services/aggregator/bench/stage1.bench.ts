// Stage-1 throughput, stage-2 cost and memory per active series, run on demand (not a test):
//   pnpm --filter @meshloop/aggregator bench [seconds]      (BENCH_NO_MEMORY=1 skips the memory part)
// Throughput: one Stage1Partition (one core) folds pre-built protobuf records of 512 realistic spans each, made by the
// OTel SDK types and serialized by @opentelemetry/otlp-transformer as exporters send them, with record timestamps
// moving on so that windows close, edges pair and expire and the dedup filter works as in production.
// Stage 2: partials of many services and partitions merged into final aggregates.
// Memory: heap + array-buffer growth per instance series (counters + latency sketch + map entry) with a typical
// latency spread, and with the sketch filled to its bin bound (the worst case).
import { SpanKind, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { visitSpans, WireReader } from "@meshloop/otlp";
import type { PartialAggregate, ProgressMark } from "@meshloop/contracts";
import { partialId } from "@meshloop/contracts";
import { DEFAULT_SKETCH_OPTIONS, instanceKey, SeriesSet, Stage1Partition, Stage2Merger } from "../src/index.ts";

const seconds = Number(process.argv[2] ?? 10);
const spansPerRecord = 512;
const recordsPerSecond = 40; // of record time: 20k spans/s per partition
const T0 = 1_700_000_000_000;

let seed = 42;
function random(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296;
}
function hex(bytes: number): string {
  let s = "";
  for (let i = 0; i < bytes; i++) s += Math.floor(random() * 256).toString(16).padStart(2, "0");
  return s;
}
function hr(ms: number): [number, number] {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

const services = Array.from({ length: 8 }, (_, i) =>
  Array.from({ length: 4 }, (_, k) =>
    resourceFromAttributes({
      "service.name": `svc-${i}`, "service.version": k === 3 ? "1.3.0" : "1.2.3", "service.instance.id": `svc-${i}-pod-${k}`,
      "k8s.namespace.name": "shop", "k8s.pod.name": `svc-${i}-pod-${k}`, "host.name": `node-${k}`, "cloud.region": "eu-west-1",
      "cloud.availability_zone": `eu-west-1${"abc"[k % 3]}`, "telemetry.sdk.language": "nodejs", "telemetry.sdk.version": "2.2.0",
    }),
  ),
);

/** One exporter batch: 256 traces of a CLIENT span of one service and the SERVER span of the next it calls. */
function record(recordIndex: number): { value: Buffer; timestampMs: number } {
  const timestampMs = T0 + Math.floor((recordIndex * 1000) / recordsPerSecond);
  const spans: ReadableSpan[] = [];
  for (let i = 0; i < spansPerRecord / 2; i++) {
    const traceId = hex(16);
    const clientId = hex(8);
    const caller = Math.floor(random() * 8);
    const callee = (caller + 1) % 8;
    const end = timestampMs - random() * 3000;
    const duration = 1 + 300 * random() ** 3;
    const route = `/api/v1/items/{id}/${i % 12}`;
    const status = random() < 0.02 ? 503 : 200;
    const common = {
      "http.request.method": "GET", "http.route": route, "http.response.status_code": status, "url.path": `/api/v1/items/${i}`,
      "url.scheme": "http", "server.address": `svc-${callee}.shop.svc.cluster.local`, "server.port": 8080,
      "network.protocol.version": "1.1", "client.address": "10.1.2.3", "user_agent.original": "okhttp/4.12.0",
      "http.request.body.size": 512 + i, "http.response.body.size": 2048 + i,
    };
    const make = (kind: SpanKind, spanId: string, parent: string | undefined, resource: number, start: number, stop: number): ReadableSpan => ({
      name: `GET ${route}`, kind,
      spanContext: () => ({ traceId, spanId, traceFlags: TraceFlags.SAMPLED }),
      parentSpanContext: parent ? { traceId, spanId: parent, traceFlags: TraceFlags.SAMPLED, isRemote: true } : undefined,
      startTime: hr(start), endTime: hr(stop), duration: hr(stop - start), ended: true,
      status: { code: status >= 500 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET },
      attributes: common, links: [], events: [],
      resource: services[resource]![i % 4]!,
      instrumentationScope: { name: "@opentelemetry/instrumentation-http", version: "0.57.0" },
      droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
    });
    spans.push(make(SpanKind.CLIENT, clientId, hex(8), caller, end - duration - 1, end));
    spans.push(make(SpanKind.SERVER, hex(8), clientId, callee, end - duration, end - 0.5));
  }
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (bytes === undefined) throw new Error("serializer returned nothing");
  return { value: Buffer.from(bytes), timestampMs };
}

/**
 * Where each span's trace id and times sit in a record, so that a pass over the records can make new traces at new
 * times by patching bytes in place (the alternative, gigabytes of distinct records, would measure the allocator).
 */
interface Patch {
  readonly value: Buffer;
  readonly traceIds: number[];
  readonly times: number[];
}

function patchPoints(value: Buffer): Patch {
  const traceIds: number[] = [];
  const times: number[] = [];
  visitSpans(value, (span) => {
    traceIds.push(span.traceIdStart);
    const r = new WireReader(span.buf, span.bodyStart, span.bodyEnd);
    while (r.more()) {
      const tag = r.tag();
      if (tag === 0x39 || tag === 0x41) times.push(r.pos);
      r.skip(tag);
    }
  });
  return { value, traceIds, times };
}

/** Moves a record to pass `pass`: trace ids changed, times `pass * shiftMs` later. */
function applyPass(p: Patch, pass: number, shiftMs: number): void {
  for (const at of p.traceIds) p.value.writeUInt32LE(pass, at);
  const shiftNs = BigInt(shiftMs) * 1_000_000n;
  for (const at of p.times) p.value.writeBigUInt64LE(p.value.readBigUInt64LE(at) + shiftNs, at);
}

function throughput(): void {
  const distinct = 400;
  process.stdout.write(`building ${distinct} records of ${spansPerRecord} spans... `);
  const records = Array.from({ length: distinct }, (_, i) => record(i));
  const patches = records.map((r) => patchPoints(r.value));
  const bytes = records.reduce((n, r) => n + r.value.length, 0);
  console.log(`${(bytes / distinct / 1024).toFixed(0)} KiB per record`);
  const stage = new Stage1Partition({ partition: 0, partitionCount: 1, resolution: { mesh: "istio" } });
  const passMs = (distinct * 1000) / recordsPerSecond;
  let spans = 0;
  let partials = 0;
  const fold = (i: number) => {
    const pass = Math.floor(i / distinct);
    // Between passes: the records become new traces, later (patching is not timed work of stage 1, but is small).
    if (pass > 0 && i % distinct === 0) for (const p of patches) applyPass(p, pass, passMs);
    const r = records[i % distinct]!;
    const out = stage.foldRecord({ value: r.value, timestampMs: r.timestampMs + pass * passMs, partition: 0, partitionCount: 1 });
    partials += out.partials.length;
    spans += spansPerRecord;
  };
  for (let i = 0; i < distinct; i++) fold(i); // warm-up: JIT, window and route maps
  const before = stage.stats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let i = distinct;
  spans = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let k = 0; k < 50; k++) fold(i++);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const after = stage.stats();
  console.log(`stage 1: ${spans} spans in ${elapsed.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU`);
  console.log(`  ${Math.round(spans / elapsed).toLocaleString("en")} spans/s wall, ${Math.round(spans / cpuSeconds).toLocaleString("en")} spans/s per CPU second`);
  const d = (k: "duplicates" | "late" | "skewed" | "misrouted") => after[k] - before[k];
  console.log(
    `  paired ${after.pairing.paired - before.pairing.paired}, duplicates ${d("duplicates")}, late ${d("late")}, skewed ${d("skewed")}, ` +
      `partials ${partials}, pending ${after.pendingSpans}, dedup entries ${after.dedupEntries}`,
  );
  const m = process.memoryUsage();
  console.log(`  heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MiB, array buffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MiB (records, dedup tables, sketches)`);

  // A checkpoint at steady state: the whole snapshot, against the state plus only the dedup generations that changed
  // since the previous checkpoint (0.5 s of record time earlier, the default interval), as the service now saves it.
  const previous = new Set(stage.dedupParts().map((part) => part.id));
  for (let k = 0; k < recordsPerSecond / 2; k++) fold(i++);
  let t = performance.now();
  const full = JSON.stringify(stage.snapshot()).length;
  const fullMs = performance.now() - t;
  t = performance.now();
  const state = JSON.stringify(stage.snapshot({ dedupData: false })).length;
  const changed = stage.dedupParts().filter((part) => !previous.has(part.id)).reduce((n, part) => n + part.encode().length, 0);
  const lightMs = performance.now() - t;
  console.log(
    `  checkpoint at steady state: whole snapshot ${(full / 2 ** 20).toFixed(1)} MiB in ${fullMs.toFixed(0)} ms; ` +
      `state + changed dedup generations ${((state + changed) / 2 ** 20).toFixed(1)} MiB in ${lightMs.toFixed(0)} ms`,
  );
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error("run with --expose-gc");
  collect();
  collect();
}

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function seriesMemory(label: string, latency: () => number, samples: number): void {
  const n = 20_000;
  gc();
  const before = used();
  const set = new SeriesSet(DEFAULT_SKETCH_OPTIONS);
  for (let s = 0; s < n; s++) {
    const key = instanceKey("1.2.3", `pod-${s}`);
    const counters = set.instance(key, "1.2.3", `pod-${s}`, { region: "eu-west-1", zone: "eu-west-1a", cluster: null });
    for (let k = 0; k < samples; k++) counters.add(1, latency(), random() < 0.9 ? 1 : 32, random() < 0.02, true);
  }
  gc();
  const perSeries = (used() - before) / n;
  let bins = 0;
  for (const acc of set.instances.values()) bins += acc.counters.latency.store.capacity;
  console.log(`  ${label}: ${perSeries.toFixed(0)} bytes per series (${(bins / n).toFixed(0)} bins allocated on average)`);
  if (set.instances.size !== n) throw new Error("lost series");
}

/**
 * Stage 2's cost: partials of 40 services from 16 spans partitions (each with 4 instance, 12 route and 6 edge series
 * of about 150 latency bins) merged into final aggregates, with the progress marks that complete them.
 */
function stage2(): void {
  const services = 40;
  const partitions = 16;
  const windows = 12;
  const counters = () => {
    const set = new SeriesSet(DEFAULT_SKETCH_OPTIONS);
    const c = set.instance("k", "v", "i", { region: null, zone: null, cluster: null });
    for (let i = 0; i < 60; i++) c.add(1, 1 + 300 * random() ** 3, 1, false, true);
    return c.toWire();
  };
  const template = counters();
  const inputs: Array<PartialAggregate | ProgressMark> = [];
  for (let w = 0; w < windows; w++) {
    const start = T0 + w * 5000;
    for (let p = 0; p < partitions; p++) {
      for (let s = 0; s < services; s++) {
        const service = `svc-${s}`;
        inputs.push({
          id: partialId(service, start, 5000, p), service, target: { mesh: "istio", namespace: "shop", service }, windowStartMs: start, windowMs: 5000,
          series: Array.from({ length: 4 }, (_, i) => ({ version: i === 3 ? "1.3.0" : "1.2.3", instance: `${service}-pod-${i}`, locality: { region: "eu-west-1", zone: null, cluster: null }, counters: template })),
          routes: Array.from({ length: 12 }, (_, i) => ({ version: "1.2.3", route: `/api/v1/r${i}`, overflow: false, counters: template })),
          inbound: Array.from({ length: 3 }, (_, i) => ({ caller: { service: `svc-${(s + i + 1) % services}`, namespace: "shop" }, callee: { service, namespace: "shop", virtual: false }, connectionType: "direct" as const, counters: template })),
          outbound: Array.from({ length: 3 }, (_, i) => ({ caller: { service, namespace: "shop" }, callee: { service: `svc-${(s + i + 7) % services}`, namespace: "shop", virtual: false }, connectionType: "direct" as const, counters: template })),
          spans: { accepted: 500, late: 0, skewed: 0, duplicate: 0 },
          partition: p, sourcePartitions: partitions, watermarkMs: start + 5000, revision: 0,
        });
      }
    }
  }
  // Round-trip through JSON as the partials topic would.
  const parsed = inputs.map((x) => JSON.parse(JSON.stringify(x)) as PartialAggregate);
  const merger = new Stage2Merger();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let aggregates = 0;
  for (const p of parsed) aggregates += merger.addPartial(p).length;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `stage 2: ${parsed.length} partials (${4 + 12 + 6} series each) into ${aggregates} aggregates in ${elapsed.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU:` +
      ` ${Math.round(parsed.length / cpuSeconds).toLocaleString("en")} partials/s, ${((cpuSeconds / aggregates) * 1000).toFixed(2)} ms CPU per final aggregate of ${partitions} partitions`,
  );
}

console.log(`maxBins ${DEFAULT_SKETCH_OPTIONS.maxBins}, relative accuracy ${DEFAULT_SKETCH_OPTIONS.relativeAccuracy}`);
throughput();
stage2();
if (!process.env.BENCH_NO_MEMORY) {
  console.log("memory per active series (instance series incl. counters, sketch, key and map entry):");
  seriesMemory("narrow (50 requests, 5-50 ms)", () => 5 + 45 * random(), 50);
  seriesMemory("typical (200 requests, 1-300 ms)", () => 1 + 300 * random() ** 3, 200);
  seriesMemory("wide (2000 requests, 0.1 ms-30 s)", () => 0.1 * Math.exp(random() * 12.6), 2000);
  seriesMemory(`worst case (sketch at its ${DEFAULT_SKETCH_OPTIONS.maxBins}-bin bound)`, () => Math.exp(random() * 40), 4000);
}
