// Ingest throughput, run on demand (not a test): `pnpm --filter @meshloop/ingest bench [seconds] [concurrency]`.
// Starts the real Kafka (if needed) and the ingest as its own process, then sends OTLP/HTTP protobuf requests of 512
// realistic spans from this process, for each Kafka compression setting. The ingest's CPU time comes from its own
// /metrics (process_cpu_seconds_total), so the broker's and this load generator's CPU on the same machine do not count.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { createKafkaBus } from "@meshloop/bus";
import { acquireInfra, eventually, uniqueName } from "@meshloop/test-harness";

const seconds = Number(process.argv[2] ?? 15);
const concurrency = Number(process.argv[3] ?? 8);
const spansPerRequest = 512;
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));

function requestBodies(count: number): Buffer[] {
  const bodies: Buffer[] = [];
  for (let b = 0; b < count; b++) {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": `svc-${b % 4}`, "service.version": "1.2.3", "service.instance.id": `svc-${b % 4}-pod-${b}`,
        "k8s.namespace.name": "shop", "k8s.pod.name": `svc-${b % 4}-pod-${b}`, "host.name": `node-${b % 3}`,
        "telemetry.sdk.language": "nodejs", "telemetry.sdk.version": "2.2.0",
      }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer("@opentelemetry/instrumentation-http", "0.57.0");
    for (let i = 0; i < spansPerRequest; i++) {
      const span = tracer.startSpan(`GET /api/v1/items/{id}`, {
        kind: i % 2 === 0 ? SpanKind.SERVER : SpanKind.CLIENT,
        attributes: {
          "http.request.method": "GET", "http.route": "/api/v1/items/{id}", "http.response.status_code": i % 50 === 0 ? 503 : 200,
          "url.path": `/api/v1/items/${i}`, "url.scheme": "http", "server.address": "items.shop.svc.cluster.local", "server.port": 8080,
          "network.protocol.version": "1.1", "client.address": "10.1.2.3", "user_agent.original": "okhttp/4.12.0",
          "http.request.body.size": 512 + i, "http.response.body.size": 2048 + i,
        },
      });
      span.setStatus(i % 50 === 0 ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.UNSET });
      span.end();
    }
    bodies.push(Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans() as never)!));
  }
  return bodies;
}

async function scrape(url: string): Promise<{ cpu: number; rss: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return { cpu: value("process_cpu_seconds_total"), rss: value("process_resident_memory_bytes") };
}

async function run(compression: string, bodies: Buffer[], brokers: readonly string[]) {
  const prefix = uniqueName("bench");
  const profile = process.env.BENCH_CPU_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  const child = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", ...profile, main], {
    env: {
      ...process.env, MESHLOOP_KAFKA_BROKERS: brokers.join(","), MESHLOOP_TOPIC_PREFIX: prefix, MESHLOOP_KAFKA_COMPRESSION: compression,
      MESHLOOP_INGEST_HOST: "127.0.0.1", MESHLOOP_INGEST_HTTP_PORT: "14318", MESHLOOP_INGEST_GRPC_PORT: "14317",
      MESHLOOP_HTTP_HOST: "127.0.0.1", MESHLOOP_HTTP_PORT: "19101", MESHLOOP_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const ops = "http://127.0.0.1:19101";
  await eventually(async () => (await fetch(`${ops}/readyz`).catch(() => null))?.status === 200, "the ingest ready", 60_000);
  const send = (body: Buffer) =>
    fetch("http://127.0.0.1:14318/v1/traces", { method: "POST", headers: { "content-type": "application/x-protobuf" }, body });
  for (let i = 0; i < 20; i++) await send(bodies[i % bodies.length]!); // warm-up: JIT, connections, metadata
  const before = await scrape(ops);
  let peakRss = before.rss;
  const latencies: number[] = [];
  let requests = 0;
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const sampler = setInterval(() => { void scrape(ops).then((s) => { peakRss = Math.max(peakRss, s.rss); }, () => undefined); }, 500);
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = worker; performance.now() < deadline; i += concurrency) {
      const t0 = performance.now();
      const response = await send(bodies[i % bodies.length]!);
      await response.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (response.status === 200) requests++;
      else failures++;
    }
  }));
  const wall = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const after = await scrape(ops);
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  const bus = createKafkaBus({ brokers, clientId: "bench-cleanup" });
  await bus.deleteTopics([`${prefix}.meshloop.spans.v1`, `${prefix}.meshloop.resource-metrics.v1`, `${prefix}.meshloop.partials.v1`,
    `${prefix}.meshloop.aggregates.v1`, `${prefix}.meshloop.decisions.v1`, `${prefix}.meshloop.actuations.v1`, `${prefix}.meshloop.control.v1`]);
  await bus.close();
  latencies.sort((a, b) => a - b);
  const spans = requests * spansPerRequest;
  const cpu = after.cpu - before.cpu;
  return {
    compression,
    spansPerCpuSecond: Math.round(spans / cpu),
    spansPerWallSecond: Math.round(spans / wall),
    ingestCpuSeconds: Number(cpu.toFixed(2)),
    requests,
    failures,
    p50ms: Number(latencies[Math.floor(latencies.length * 0.5)]!.toFixed(1)),
    p99ms: Number(latencies[Math.floor(latencies.length * 0.99)]!.toFixed(1)),
    peakRssMiB: Math.round(peakRss / 1024 / 1024),
  };
}

const lease = await acquireInfra();
try {
  const bodies = requestBodies(32);
  console.log(`ingest benchmark: ${seconds}s per setting, ${concurrency} concurrent requests of ${spansPerRequest} spans (${Math.round(bodies[0]!.length / 1024)} KiB each), node ${process.version}`);
  const rows = [];
  for (const compression of (process.env.BENCH_COMPRESSION ?? "none,gzip,lz4").split(",")) {
    rows.push(await run(compression, bodies, lease.kafkaBrokers));
    await sleep(1_000);
  }
  console.table(rows);
} finally {
  await lease.release();
}
