import assert from "node:assert/strict";
import { test } from "node:test";
import type { Sampler, SamplingResult } from "@opentelemetry/api";
import { createTraceState, ROOT_CONTEXT, SamplingDecision, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { partialAggregateSchema } from "@meshloop/contracts";
import { splitTraceRequest } from "@meshloop/otlp";
import { DDSketch } from "../src/index.ts";
import { exactQuantile, stage1For } from "./pipeline.ts";
import { Rng, T0, toProtobuf } from "./span-stream.ts";

/** A consistent probability sampler keeping everything but announcing 50% (th:8), as a 50% sampler's spans do. */
const announcingSampler: Sampler = {
  shouldSample: (): SamplingResult => ({ decision: SamplingDecision.RECORD_AND_SAMPLED, traceState: createTraceState("ot=th:8") }),
  toString: () => "announcing",
};

test("spans from the real OTel SDK: context propagation pairs the edge, the tracestate weighs every count", () => {
  const exporter = new InMemorySpanExporter();
  const provider = (service: string, namespace: string, sampler?: Sampler) =>
    new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": service, "service.version": "3.1.0", "service.instance.id": `${service}-0`, "k8s.namespace.name": namespace }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      ...(sampler ? { sampler } : {}),
    });
  const frontend = provider("frontend", "web", announcingSampler).getTracer("@opentelemetry/instrumentation-http");
  const checkout = provider("checkout", "shop").getTracer("@opentelemetry/instrumentation-http");
  const rng = new Rng(4);
  const durations: Array<[number, number]> = [];
  const n = 200;
  for (let i = 0; i < n; i++) {
    const start = T0 + 100 + i * 10;
    const server = frontend.startSpan("GET /", { kind: SpanKind.SERVER, startTime: start, attributes: { "http.route": "/" } });
    const client = frontend.startSpan("POST", { kind: SpanKind.CLIENT, startTime: start + 1 }, trace.setSpan(ROOT_CONTEXT, server));
    // The callee continues the trace from the propagated context (W3C traceparent and tracestate).
    const callee = checkout.startSpan("POST /pay", { kind: SpanKind.SERVER, startTime: start + 2, attributes: { "http.route": "/pay", "http.response.status_code": i % 10 === 0 ? 500 : 200 } }, trace.setSpanContext(ROOT_CONTEXT, client.spanContext()));
    const took = 1 + rng.int(200);
    durations.push([took, 2]);
    if (i % 10 === 0) callee.setStatus({ code: SpanStatusCode.ERROR });
    callee.end(start + 2 + took);
    client.end(start + 3 + took);
    server.end(start + 4 + took);
  }
  const body = toProtobuf(exporter.getFinishedSpans());
  const [message] = splitTraceRequest(body, { partitionCount: 1, maxMessageBytes: 4_000_000 }).messages;
  const stage = stage1For(0, 1);
  stage.foldRecord({ value: message!.value, timestampMs: T0 + 3000, partition: 0, partitionCount: 1 });
  const out = stage.tick(T0 + 60_000);
  const partials = out.partials.map((p) => partialAggregateSchema.parse(p));
  const ck = partials.find((p) => p.service === "checkout")!;
  const fe = partials.find((p) => p.service === "frontend")!;
  assert.equal(ck.series[0]!.counters.requests, 2 * n);
  assert.equal(ck.series[0]!.counters.errors, 2 * (n / 10));
  assert.equal(ck.series[0]!.counters.sampling, "known", "the child inherited the parent's tracestate");
  assert.equal(ck.spans.accepted, n);
  const sketch = DDSketch.fromWire(ck.series[0]!.counters.latency);
  for (const q of [0.5, 0.99]) {
    const exact = exactQuantile(durations, q);
    assert.ok(Math.abs(sketch.quantile(q) - exact) <= 0.01 * exact + 1e-6, `p${q * 100}`);
  }
  assert.deepEqual(fe.outbound, ck.inbound);
  const edge = fe.outbound[0]!;
  assert.deepEqual([edge.caller, edge.callee, edge.connectionType], [{ service: "frontend", namespace: "web" }, { service: "checkout", namespace: "shop", virtual: false }, "direct"]);
  assert.equal(edge.counters.requests, 2 * n);
  assert.equal(edge.counters.errors, 2 * (n / 10));
  assert.equal(stage.stats().pairing.paired, n);
  assert.equal(stage.stats().pairing.expiredClients, 0);
});
