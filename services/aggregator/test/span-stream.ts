import type { Attributes, HrTime, SpanContext } from "@opentelemetry/api";
import { createTraceState, SpanKind, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { Resource } from "@opentelemetry/resources";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { spanPartition } from "@meshloop/contracts";
import { splitTraceRequest } from "@meshloop/otlp";
import type { SpanRecord } from "../src/index.ts";

/**
 * Generated span streams with known answers. A small shop (frontend -> checkout -> payments, with a canary of
 * checkout, a gRPC hop, a database and an external API as virtual nodes, a producer/consumer pair, an unresolvable
 * caller, orphan spans) emits traces; every span is written down twice: as a ReadableSpan serialized by the real
 * OTel ProtobufTraceSerializer and split by trace id as the ingest does, and as the answer the aggregator must give,
 * computed here from the model, independently of the code under test.
 */

export const WINDOW_MS = 5000;
export const T0 = 1_700_000_000_000; // window-aligned

/** mulberry32: small, seeded, good enough for test data. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(bytes: number): string {
    let out = "";
    for (let i = 0; i < bytes; i++) out += this.int(256).toString(16).padStart(2, "0");
    return out;
  }
}

export interface ResourceSpec {
  readonly service: string;
  readonly namespace: string | null;
  readonly version: string;
  readonly instance: string;
  readonly region?: string;
  readonly zone?: string;
  /** Whether resolveTarget accepts it (its spans get partials). */
  readonly resolvable: boolean;
}

export const R = {
  fe1: { service: "frontend", namespace: "shop", version: "1.0.0", instance: "fe-1", region: "eu-west-1", zone: "eu-west-1a", resolvable: true },
  fe2: { service: "frontend", namespace: "shop", version: "1.0.0", instance: "fe-2", region: "eu-west-1", zone: "eu-west-1b", resolvable: true },
  ck1: { service: "checkout", namespace: "shop", version: "1.4.2", instance: "ck-1", resolvable: true },
  ck2: { service: "checkout", namespace: "shop", version: "1.4.2", instance: "ck-2", resolvable: true },
  ckCanary: { service: "checkout", namespace: "shop", version: "1.5.0", instance: "ck-canary", resolvable: true },
  pay1: { service: "payments", namespace: "billing", version: "2.0.0", instance: "pay-1", resolvable: true },
  cron: { service: "Legacy Cron", namespace: null, version: "0.1", instance: "cron-host", resolvable: false },
} satisfies Record<string, ResourceSpec>;

export interface GenSpan {
  readonly resource: ResourceSpec;
  readonly kind: SpanKind;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Attributes;
  readonly status: SpanStatusCode;
  readonly traceState?: string;
  /** When the ingest receives it: the record timestamp. */
  exportAtMs: number;
}

export interface ExpectedCounters {
  requests: number;
  errors: number;
  status: Record<"2xx" | "3xx" | "4xx" | "401" | "403" | "5xx" | "grpcErrors", number>;
  samplingUnknown: boolean;
  /** (duration, weight) of every span, for exact quantiles. */
  durations: Array<[number, number]>;
}

export interface ExpectedWindow {
  instances: Map<string, ExpectedCounters>;
  routes: Map<string, ExpectedCounters>;
  inbound: Map<string, ExpectedCounters>;
  outbound: Map<string, ExpectedCounters>;
  accepted: number;
}

export function emptyExpected(): ExpectedCounters {
  return { requests: 0, errors: 0, status: { "2xx": 0, "3xx": 0, "4xx": 0, "401": 0, "403": 0, "5xx": 0, grpcErrors: 0 }, samplingUnknown: false, durations: [] };
}

/** Labels used to compare with aggregates (see collect below). */
export function edgeLabel(caller: string, callerNs: string | null, callee: string, calleeNs: string | null, virtual: boolean, type: string): string {
  return `${caller}/${callerNs ?? "-"} -> ${callee}/${calleeNs ?? "-"}${virtual ? " (virtual)" : ""} [${type}]`;
}

interface Outcome {
  readonly weight: number;
  readonly known: boolean;
}

export class Expectation {
  readonly windows = new Map<string, ExpectedWindow>();
  /** Expired unpaired spans the stream contains, by side. */
  unpairedClients = 0;
  unpairedServers = 0;
  virtualEdges = 0;
  pairs = 0;

  window(service: string, startMs: number): ExpectedWindow {
    const key = `${service}|${startMs}`;
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { instances: new Map(), routes: new Map(), inbound: new Map(), outbound: new Map(), accepted: 0 };
      this.windows.set(key, w);
    }
    return w;
  }

  count(map: Map<string, ExpectedCounters>, key: string, o: Outcome, durationMs: number, error: boolean, http: number, grpc: number): void {
    let c = map.get(key);
    if (c === undefined) map.set(key, (c = emptyExpected()));
    c.requests += o.weight;
    if (error) c.errors += o.weight;
    if (http >= 200 && http < 300) c.status["2xx"] += o.weight;
    if (http >= 300 && http < 400) c.status["3xx"] += o.weight;
    if (http >= 400 && http < 500) c.status["4xx"] += o.weight;
    if (http === 401) c.status["401"] += o.weight;
    if (http === 403) c.status["403"] += o.weight;
    if (http >= 500 && http < 600) c.status["5xx"] += o.weight;
    if (grpc > 0) c.status.grpcErrors += o.weight;
    if (!o.known) c.samplingUnknown = true;
    c.durations.push([durationMs, o.weight]);
  }
}

export function windowOf(ms: number): number {
  return Math.floor(ms / WINDOW_MS) * WINDOW_MS;
}

const SAMPLINGS: ReadonlyArray<{ traceState: string | undefined; weight: number; known: boolean }> = [
  { traceState: undefined, weight: 1, known: false },
  { traceState: "ot=th:0", weight: 1, known: true },
  { traceState: "ot=th:8", weight: 2, known: true },
  { traceState: "vendor=x,ot=th:c;rv:0123456789abcd", weight: 4, known: true },
];

export interface ShopOptions {
  readonly seed: number;
  readonly traces: number;
  /** Traces start uniformly over this stretch after T0. */
  readonly spreadMs: number;
  /** Exporter delay: a span reaches the ingest up to this long after it ended (plus up to 1 s of batching). */
  readonly maxDelayMs?: number;
  /** Use weights other than 1 (tracestate thresholds). */
  readonly sampled?: boolean;
}

/**
 * Traces of the shop with their expected answers. Durations stay within a 300x range so that the sketch keeps its
 * accuracy at every quantile (collapsing is tested separately).
 */
export function shopTraces(options: ShopOptions): { spans: GenSpan[]; expected: Expectation } {
  const rng = new Rng(options.seed);
  const spans: GenSpan[] = [];
  const expected = new Expectation();
  const maxDelay = options.maxDelayMs ?? 3000;
  const duration = () => Math.round((1 + 299 * rng.next() ** 3) * 1000) / 1000; // 1..300 ms, heavy on the low end

  const emit = (span: Omit<GenSpan, "exportAtMs">) => {
    spans.push({ ...span, exportAtMs: span.endMs + rng.int(maxDelay) });
  };

  for (let t = 0; t < options.traces; t++) {
    const sampling = options.sampled ? rng.pick(SAMPLINGS) : SAMPLINGS[0]!;
    const o: Outcome = { weight: sampling.weight, known: sampling.known };
    const traceState = sampling.traceState;
    const traceId = rng.hex(16);
    const start = T0 + rng.int(options.spreadMs);
    const kind = rng.next();

    if (kind < 0.08) {
      // The unresolvable cron calls checkout: an inbound edge on checkout only.
      const ck = rng.pick([R.ck1, R.ck2]);
      const clientId = rng.hex(8);
      const serverDur = duration();
      const http = rng.pick([200, 200, 500]);
      const sStart = start + 1;
      const sEnd = sStart + serverDur;
      const cEnd = sEnd + 1;
      emit({ resource: R.cron, kind: SpanKind.CLIENT, name: "POST", traceId, spanId: clientId, startMs: start, endMs: cEnd, attributes: { "http.response.status_code": http, "server.address": "checkout" }, status: http >= 400 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, traceState });
      const serverErr = http >= 500;
      emit({ resource: ck, kind: SpanKind.SERVER, name: "POST /api/batch", traceId, spanId: rng.hex(8), parentSpanId: clientId, startMs: sStart, endMs: sEnd, attributes: { "http.route": "/api/batch", "http.response.status_code": http }, status: serverErr ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, traceState });
      const ckw = expected.window("checkout", windowOf(sEnd));
      expected.count(ckw.instances, `${ck.version}|${ck.instance}`, o, serverDur, serverErr, http, -1);
      expected.count(ckw.routes, `${ck.version}|/api/batch|false`, o, serverDur, serverErr, http, -1);
      ckw.accepted++;
      const edgeW = expected.window("checkout", windowOf(cEnd));
      expected.count(edgeW.inbound, edgeLabel("Legacy Cron", null, "checkout", "shop", false, "direct"), o, cEnd - start, serverErr, http, -1);
      expected.pairs++;
      continue;
    }

    if (kind < 0.12) {
      // An orphan SERVER span: its parent (an uninstrumented proxy) never reports. Counted, expires unpaired.
      const pay = R.pay1;
      const d = duration();
      emit({ resource: pay, kind: SpanKind.SERVER, name: "pay.Payments/Refund", traceId, spanId: rng.hex(8), parentSpanId: rng.hex(8), startMs: start, endMs: start + d, attributes: { "rpc.system": "grpc", "rpc.service": "pay.Payments", "rpc.method": "Refund", "rpc.grpc.status_code": 0 }, status: SpanStatusCode.UNSET, traceState });
      const w = expected.window("payments", windowOf(start + d));
      expected.count(w.instances, `${pay.version}|${pay.instance}`, o, d, false, 0, 0);
      expected.count(w.routes, `${pay.version}|pay.Payments/Refund|false`, o, d, false, 0, 0);
      w.accepted++;
      expected.unpairedServers++;
      continue;
    }

    if (kind < 0.18) {
      // Messaging: checkout produces, payments consumes as a child of the producer span.
      const ck = rng.pick([R.ck1, R.ck2, R.ckCanary]);
      const producerId = rng.hex(8);
      const pDur = duration();
      const pEnd = start + pDur;
      emit({ resource: ck, kind: SpanKind.PRODUCER, name: "orders publish", traceId, spanId: producerId, startMs: start, endMs: pEnd, attributes: { "messaging.system": "kafka", "messaging.destination.name": "orders" }, status: SpanStatusCode.UNSET, traceState });
      const cDur = duration();
      const cStart = pEnd + rng.int(50);
      const failed = rng.chance(0.1);
      emit({ resource: R.pay1, kind: SpanKind.CONSUMER, name: "orders process", traceId, spanId: rng.hex(8), parentSpanId: producerId, startMs: cStart, endMs: cStart + cDur, attributes: { "messaging.system": "kafka" }, status: failed ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, traceState });
      expected.window("checkout", windowOf(pEnd)).accepted++;
      const pw = expected.window("payments", windowOf(cStart + cDur));
      pw.accepted++;
      expected.count(pw.instances, `${R.pay1.version}|${R.pay1.instance}`, o, cDur, failed, 0, -1);
      const label = edgeLabel("checkout", "shop", "payments", "billing", false, "messaging_system");
      expected.count(expected.window("checkout", windowOf(pEnd)).outbound, label, o, pDur, failed, 0, -1);
      expected.count(expected.window("payments", windowOf(pEnd)).inbound, label, o, pDur, failed, 0, -1);
      expected.pairs++;
      continue;
    }

    // The web request: frontend SERVER (root) -> frontend CLIENT -> checkout SERVER -> checkout CLIENTs.
    const fe = rng.pick([R.fe1, R.fe2]);
    const ck = rng.pick([R.ck1, R.ck2, R.ck1, R.ck2, R.ckCanary]);
    const feRoute = rng.pick(["/checkout", "/browse/{id}"]);
    const http = rng.pick([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 301, 404, 401, 403, 503]);
    const timeout = rng.chance(0.03);
    const payGrpc = rng.pick([0, 0, 0, 0, 0, 0, 0, 0, 5, 14]);
    const callsStripe = rng.chance(0.5);
    const callsNothing = rng.chance(0.1);

    // Innermost first, so that each parent ends after its children.
    let cursor = start + 2;
    const ckServerId = rng.hex(8);
    const feClientId = rng.hex(8);
    const ckStart = cursor;
    cursor += 1;
    // checkout -> payments (gRPC), payments -> postgres (virtual, database)
    const ckToPayId = rng.hex(8);
    const payStart = cursor + 1;
    const dbStart = payStart + 1;
    const dbDur = duration();
    const dbEnd = dbStart + dbDur;
    const payEnd = dbEnd + duration() / 10;
    const ckToPayEnd = payEnd + 1;
    const payErr = payGrpc === 14;
    const paySpanId = rng.hex(8);
    emit({ resource: R.pay1, kind: SpanKind.CLIENT, name: "SELECT", traceId, spanId: rng.hex(8), parentSpanId: paySpanId, startMs: dbStart, endMs: dbEnd, attributes: { "db.system": "postgresql", "server.address": "pg.billing", "db.name": "pay" }, status: SpanStatusCode.UNSET, traceState });
    emit({ resource: R.pay1, kind: SpanKind.SERVER, name: "pay.Payments/Charge", traceId, spanId: paySpanId, parentSpanId: ckToPayId, startMs: payStart, endMs: payEnd, attributes: { "rpc.system": "grpc", "rpc.service": "pay.Payments", "rpc.method": "Charge", "rpc.grpc.status_code": payGrpc }, status: payErr ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, traceState });
    emit({ resource: ck, kind: SpanKind.CLIENT, name: "pay.Payments/Charge", traceId, spanId: ckToPayId, parentSpanId: ckServerId, startMs: cursor, endMs: ckToPayEnd, attributes: { "rpc.system": "grpc", "rpc.grpc.status_code": payGrpc, "server.address": "payments.billing" }, status: payGrpc !== 0 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, traceState });
    cursor = ckToPayEnd + 1;
    let stripe: { start: number; end: number } | undefined;
    if (callsStripe) {
      const d = duration();
      stripe = { start: cursor, end: cursor + d };
      emit({ resource: ck, kind: SpanKind.CLIENT, name: "POST", traceId, spanId: rng.hex(8), parentSpanId: ckServerId, startMs: stripe.start, endMs: stripe.end, attributes: { "peer.service": "stripe", "server.address": "api.stripe.com", "http.response.status_code": 200 }, status: SpanStatusCode.UNSET, traceState });
      cursor = stripe.end + 1;
    }
    const ckEnd = cursor + 1;
    const ckErr = http >= 500;
    emit({ resource: ck, kind: SpanKind.SERVER, name: "POST /api/checkout", traceId, spanId: ckServerId, parentSpanId: feClientId, startMs: ckStart, endMs: ckEnd, attributes: { "http.route": "/api/checkout", "http.response.status_code": http, "http.request.method": "POST" }, status: ckErr ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, traceState });
    const feClientEnd = ckEnd + 1 + (timeout ? 30 : 0);
    emit({ resource: fe, kind: SpanKind.CLIENT, name: "POST", traceId, spanId: feClientId, parentSpanId: "0000000000000001", startMs: start + 1, endMs: feClientEnd, attributes: timeout ? { "server.address": "checkout.shop" } : { "http.response.status_code": http, "server.address": "checkout.shop" }, status: timeout || http >= 400 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, traceState });
    let feEnd = feClientEnd + 1;
    let nothing: { start: number; end: number } | undefined;
    if (callsNothing) {
      nothing = { start: feEnd, end: feEnd + duration() };
      emit({ resource: fe, kind: SpanKind.CLIENT, name: "GET", traceId, spanId: rng.hex(8), startMs: nothing.start, endMs: nothing.end, attributes: { "http.request.method": "GET" }, status: SpanStatusCode.UNSET, traceState });
      feEnd = nothing.end + 1;
    }
    const feHttp = timeout ? 504 : http;
    const feErr = feHttp >= 500;
    emit({ resource: fe, kind: SpanKind.SERVER, name: `GET ${feRoute}`, traceId, spanId: "0000000000000001", startMs: start, endMs: feEnd, attributes: { "http.route": feRoute, "http.response.status_code": feHttp }, status: feErr ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, traceState });

    // The answers.
    const feW = expected.window("frontend", windowOf(feEnd));
    expected.count(feW.instances, `${fe.version}|${fe.instance}`, o, feEnd - start, feErr, feHttp, -1);
    expected.count(feW.routes, `${fe.version}|${feRoute}|false`, o, feEnd - start, feErr, feHttp, -1);
    feW.accepted++;
    expected.window("frontend", windowOf(feClientEnd)).accepted++;
    if (nothing) {
      expected.window("frontend", windowOf(nothing.end)).accepted++;
      expected.unpairedClients++;
    }
    const ckW = expected.window("checkout", windowOf(ckEnd));
    expected.count(ckW.instances, `${ck.version}|${ck.instance}`, o, ckEnd - ckStart, ckErr, http, -1);
    expected.count(ckW.routes, `${ck.version}|/api/checkout|false`, o, ckEnd - ckStart, ckErr, http, -1);
    ckW.accepted++;
    // frontend -> checkout: failed when checkout failed or the call timed out; classes from checkout's response.
    const feCk = edgeLabel("frontend", "shop", "checkout", "shop", false, "direct");
    const feCkErr = ckErr || timeout;
    expected.count(expected.window("frontend", windowOf(feClientEnd)).outbound, feCk, o, feClientEnd - (start + 1), feCkErr, http, -1);
    expected.count(expected.window("checkout", windowOf(feClientEnd)).inbound, feCk, o, feClientEnd - (start + 1), feCkErr, http, -1);
    expected.pairs++;
    // checkout -> payments: gRPC, an error for UNAVAILABLE only; every non-OK code is a grpcError.
    expected.window("checkout", windowOf(ckToPayEnd)).accepted++;
    const ckPay = edgeLabel("checkout", "shop", "payments", "billing", false, "direct");
    expected.count(expected.window("checkout", windowOf(ckToPayEnd)).outbound, ckPay, o, ckToPayEnd - (ckStart + 1), payErr, 0, payGrpc);
    expected.count(expected.window("payments", windowOf(ckToPayEnd)).inbound, ckPay, o, ckToPayEnd - (ckStart + 1), payErr, 0, payGrpc);
    expected.pairs++;
    const payW = expected.window("payments", windowOf(payEnd));
    expected.count(payW.instances, `${R.pay1.version}|${R.pay1.instance}`, o, payEnd - payStart, payErr, 0, payGrpc);
    expected.count(payW.routes, `${R.pay1.version}|pay.Payments/Charge|false`, o, payEnd - payStart, payErr, 0, payGrpc);
    payW.accepted++;
    // payments -> pg.billing: a database virtual node, named from server.address before db.system.
    const dbW = expected.window("payments", windowOf(dbEnd));
    dbW.accepted++;
    expected.count(dbW.outbound, edgeLabel("payments", "billing", "pg.billing", null, true, "database"), o, dbDur, false, 0, -1);
    expected.unpairedClients++;
    expected.virtualEdges++;
    if (stripe) {
      const sw = expected.window("checkout", windowOf(stripe.end));
      sw.accepted++;
      expected.count(sw.outbound, edgeLabel("checkout", "shop", "stripe", null, true, "virtual_node"), o, stripe.end - stripe.start, false, 200, -1);
      expected.unpairedClients++;
      expected.virtualEdges++;
    }
  }
  return { spans, expected };
}

// ---- OTLP records ----

const resources = new Map<ResourceSpec, Resource>();

function resourceOf(spec: ResourceSpec): Resource {
  let r = resources.get(spec);
  if (r === undefined) {
    const attributes: Attributes = { "service.name": spec.service, "service.version": spec.version, "service.instance.id": spec.instance };
    if (spec.namespace !== null) attributes["k8s.namespace.name"] = spec.namespace;
    if (spec.region) attributes["cloud.region"] = spec.region;
    if (spec.zone) attributes["cloud.availability_zone"] = spec.zone;
    r = resourceFromAttributes(attributes);
    resources.set(spec, r);
  }
  return r;
}

export function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

export function readable(span: GenSpan): ReadableSpan {
  const context: SpanContext = {
    traceId: span.traceId,
    spanId: span.spanId,
    traceFlags: TraceFlags.SAMPLED,
    ...(span.traceState ? { traceState: createTraceState(span.traceState) } : {}),
  };
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => context,
    parentSpanContext: span.parentSpanId
      ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true }
      : undefined,
    startTime: hrTime(span.startMs),
    endTime: hrTime(span.endMs),
    status: { code: span.status },
    attributes: span.attributes,
    links: [],
    events: [],
    duration: hrTime(span.endMs - span.startMs),
    ended: true,
    resource: resourceOf(span.resource),
    instrumentationScope: { name: "shop", version: "1" },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

type SerializerInput = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0];

export function toProtobuf(spans: readonly ReadableSpan[]): Buffer {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans as unknown as SerializerInput);
  if (bytes === undefined) throw new Error("the serializer returned nothing");
  return Buffer.from(bytes);
}

/**
 * The spans as the spans topic would hold them: each instance's exporter sends a batch every second (the spans
 * whose export time fell in it), the ingest splits each request by trace id and stamps it with the batch time.
 * Records of a partition come in timestamp order.
 */
export function toRecords(spans: readonly GenSpan[], partitionCount: number): SpanRecord[][] {
  const batches = new Map<string, { at: number; spans: GenSpan[] }>();
  for (const s of spans) {
    const at = Math.ceil(s.exportAtMs / 1000) * 1000;
    const key = `${s.resource.service}|${s.resource.instance}|${at}`;
    let b = batches.get(key);
    if (b === undefined) batches.set(key, (b = { at, spans: [] }));
    b.spans.push(s);
  }
  const out: SpanRecord[][] = Array.from({ length: partitionCount }, () => []);
  for (const b of [...batches.values()].sort((x, y) => x.at - y.at)) {
    const body = toProtobuf(b.spans.map(readable));
    const split = splitTraceRequest(body, { partitionCount, maxMessageBytes: 900_000 });
    if (split.rejectedSpans > 0) throw new Error(`split rejected spans: ${split.errorMessage}`);
    for (const m of split.messages) out[m.partition]!.push({ value: m.value, timestampMs: b.at, partition: m.partition, partitionCount });
  }
  return out;
}

export function partitionOfTrace(traceId: string, partitionCount: number): number {
  return spanPartition(Buffer.from(traceId, "hex"), partitionCount);
}

// ---- Hand-made spans for unit tests ----

let handCounter = 0;

/** A span with the given fields and fresh ids; a SERVER span of checkout ending at T0 + 1 s by default. */
export function hand(span: Partial<GenSpan> = {}): GenSpan {
  handCounter++;
  const endMs = span.endMs ?? T0 + 1000;
  return {
    resource: R.ck1,
    kind: SpanKind.SERVER,
    name: "span",
    traceId: handCounter.toString(16).padStart(32, "a"),
    spanId: handCounter.toString(16).padStart(16, "b"),
    startMs: endMs - 10,
    endMs,
    attributes: {},
    status: SpanStatusCode.UNSET,
    exportAtMs: endMs,
    ...span,
  };
}

/** One record of the given spans (one partition of `partitionCount`, 0 by default). */
export function recordOf(spans: readonly GenSpan[], timestampMs: number, partition = 0, partitionCount = 1): SpanRecord {
  return { value: toProtobuf(spans.map(readable)), timestampMs, partition, partitionCount };
}

/** A trace id that `spanPartition` puts on `partition` of `partitionCount`. */
export function traceIdOn(partition: number, partitionCount: number, rng: Rng = new Rng(partition + 1)): string {
  for (;;) {
    const id = rng.hex(16);
    if (partitionOfTrace(id, partitionCount) === partition) return id;
  }
}
