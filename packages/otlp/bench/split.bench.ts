/**
 * Micro-benchmark of the ingest's share of the hot path: splitting a realistic ExportTraceServiceRequest by
 * partition. 512 spans from the real SDK (4 resources x 2 scopes x 64 spans, 12 attributes each, some events,
 * links and errors), serialized by @opentelemetry/otlp-transformer as an exporter would send them.
 * Run: node bench/split.bench.ts [seconds]. Also times the split with an attribute filter that re-encodes every
 * span, visitSpans and the JSON path for comparison.
 */
import type { Attributes } from "@opentelemetry/api";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { encodeTraceRequestFromJson, splitTraceRequest, visitSpans } from "../src/index.ts";

const seconds = Number(process.argv[2] ?? 3);

function buildSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  for (let r = 0; r < 4; r++) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": `service-${r}`,
        "service.version": "2.3.1",
        "service.instance.id": `service-${r}-6b7f9c-x2k4p`,
        "k8s.pod.name": `service-${r}-6b7f9c-x2k4p`,
        "k8s.namespace.name": "shop",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "nodejs",
        "telemetry.sdk.version": "2.2.0",
      }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    for (const scope of ["@opentelemetry/instrumentation-http", "@opentelemetry/instrumentation-undici"]) {
      const tracer = provider.getTracer(scope, "0.57.0");
      for (let i = 0; i < 64; i++) {
        const span = tracer.startSpan(`GET /api/v1/items/{id}`, { kind: i % 2 ? SpanKind.CLIENT : SpanKind.SERVER, attributes: attributes(i) });
        if (i % 8 === 0) span.addEvent("retry", { "http.request.resend_count": 1 });
        if (i % 10 === 0) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    }
  }
  return exporter.getFinishedSpans();
}

function attributes(i: number): Attributes {
  return {
    "http.request.method": "GET",
    "http.route": "/api/v1/items/{id}",
    "http.response.status_code": i % 10 === 0 ? 503 : 200,
    "url.full": `https://inventory.shop.svc.cluster.local:8080/api/v1/items/${100_000 + i}?view=full`,
    "url.scheme": "https",
    "server.address": "inventory.shop.svc.cluster.local",
    "server.port": 8080,
    "network.peer.address": `10.42.${i % 16}.${i}`,
    "network.protocol.version": "1.1",
    "user_agent.original": "undici/6.21.0",
    "http.request.body.size": 0,
    "http.response.body.size": 1800 + i,
  };
}

type SerializerInput = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0];

/** Runs `run` for `seconds`; rates are per CPU-second (user + system), the unit of the ingest's target. */
function measure(name: string, spansPerRun: number, bytesPerRun: number, run: () => void): void {
  for (let i = 0; i < 200; i++) run(); // warm up the JIT
  let runs = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while (now < deadline) {
    for (let i = 0; i < 20; i++) run();
    runs += 20;
    now = process.hrtime.bigint();
  }
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const wallSeconds = Number(now - started) / 1e9;
  const spansPerCpuSecond = (runs * spansPerRun) / cpuSeconds;
  const mbPerCpuSecond = (runs * bytesPerRun) / cpuSeconds / 1e6;
  console.log(
    `${name.padEnd(36)} ${Math.round(spansPerCpuSecond).toLocaleString("en").padStart(10)} spans/s ` +
      `${mbPerCpuSecond.toFixed(0).padStart(5)} MB/s ${((cpuSeconds / runs) * 1e6).toFixed(0).padStart(6)} µs/request` +
      `  (per CPU-second; wall ${Math.round((runs * spansPerRun) / wallSeconds).toLocaleString("en")} spans/s)`,
  );
}

const spans = buildSpans();
const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans as unknown as SerializerInput)!);
const jsonText = Buffer.from(JsonTraceSerializer.serializeRequest(spans as unknown as SerializerInput)!).toString();
console.log(`${spans.length} spans, ${body.length} bytes protobuf (${Math.round(body.length / spans.length)} per span), ${jsonText.length} bytes JSON; node ${process.version}`);

let sink = 0;
measure("splitTraceRequest, 12 partitions", spans.length, body.length, () => {
  sink += splitTraceRequest(body, { partitionCount: 12, maxMessageBytes: 1_000_000 }).acceptedSpans;
});
measure("splitTraceRequest, 12 p, 16 KB max", spans.length, body.length, () => {
  sink += splitTraceRequest(body, { partitionCount: 12, maxMessageBytes: 16_384 }).messages.length;
});
// Two of the dozen span attributes denied (the two longest): every span is re-encoded. One options object, compiled once.
const denyTwo = { deny: ["url.full", "user_agent.original"] };
measure("splitTraceRequest, 12 p, 2 denied", spans.length, body.length, () => {
  sink += splitTraceRequest(body, { partitionCount: 12, maxMessageBytes: 1_000_000, attributes: denyTwo }).strippedAttributes;
});
measure("visitSpans (ids, times, route)", spans.length, body.length, () => {
  visitSpans(body, (c) => {
    sink += c.durationNanos + c.kind + (c.attribute("http.route") === undefined ? 0 : 1);
  });
});
measure("JSON.parse + encodeFromJson", spans.length, jsonText.length, () => {
  sink += encodeTraceRequestFromJson(JSON.parse(jsonText)).length;
});
if (sink === 0) console.log("(nothing measured)");
