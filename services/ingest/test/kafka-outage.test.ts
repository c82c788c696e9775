// Kafka stops in the middle of a run: the ingest answers 503 (HTTP) or UNAVAILABLE (gRPC), the exporters retry,
// Kafka comes back, and every span an exporter was told was accepted is in the topic. Duplicates are counted and
// reported (at-least-once: a request answered 503 after its records reached Kafka is sent again).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ExportResult } from "@opentelemetry/core";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter as HttpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Bus, ConsumedRecord } from "@meshloop/bus";
import { createKafkaBus } from "@meshloop/bus";
import type { InfraLease, PrivateKafka } from "@meshloop/test-harness";
import { acquireInfra, eventually, privateKafka, uniqueName } from "@meshloop/test-harness";
import type { IngestFixture } from "./ingest-fixture.ts";
import { startIngest } from "./ingest-fixture.ts";
import { emitSpans, spanBytesById } from "./sample-spans.ts";

let lease: InfraLease;
let kafka: PrivateKafka;
let bus: Bus;
let ingest: IngestFixture;

before(async () => {
  lease = await acquireInfra();
  kafka = privateKafka(19192);
  await kafka.destroy();
  await kafka.start();
  bus = createKafkaBus({ brokers: kafka.brokers, clientId: "ingest-outage-test", requestTimeoutMs: 3_000 });
  ingest = await startIngest({
    bus,
    env: { MESHLOOP_BUS: "kafka", MESHLOOP_INGEST_PRODUCE_TIMEOUT: "2s", MESHLOOP_INGEST_RETRY_AFTER: "1s" },
  });
});
after(async () => {
  await ingest?.stop();
  await bus?.close();
  await kafka?.destroy();
  await lease?.release();
});

/** Remembers the spans of every export the exporter reported as successful: what the client was told is stored. */
class Witness implements SpanExporter {
  readonly acknowledged: ReadableSpan[] = [];
  failedExports = 0;
  readonly #inner: SpanExporter;
  constructor(inner: SpanExporter) {
    this.#inner = inner;
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.acknowledged.push(...spans);
      else this.failedExports++;
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

test("spans acknowledged across a Kafka outage are all in the topic; 503s during it; duplicates counted", async () => {
  const statuses: number[] = [];
  const witness = new Witness(new HttpProtoExporter({ url: `${ingest.httpUrl}/v1/traces`, timeoutMillis: 30_000 }));
  const running = { on: true };
  // Exporters sending all along: before, during and after the outage.
  const load = (async () => {
    while (running.on) {
      // An export the exporter gave up on (its retries ran out during the outage) rejects the flush; the witness
      // counted it, and those spans were never acknowledged.
      await emitSpans(20, witness).catch(() => undefined);
      await sleep(100);
    }
  })();
  // Wait for acknowledgements rather than a fixed time: on a loaded machine the first export can take seconds.
  await eventually(() => witness.acknowledged.length >= 20, "an export acknowledged before the outage", 60_000);
  await kafka.stop();
  // While Kafka is down, a direct request must be refused as retryable, never accepted.
  await eventually(async () => {
    const response = await fetch(`${ingest.httpUrl}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ resourceSpans: [] }),
    });
    statuses.push(response.status);
    const probe = await fetch(`${ingest.httpUrl}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", name: "probe", startTimeUnixNano: "1", endTimeUnixNano: "2" }] }] }] }),
    });
    statuses.push(probe.status);
    return probe.status === 503 && probe.headers.get("retry-after") === "1";
  }, "a 503 with Retry-After while Kafka is down", 30_000);
  await sleep(3_000);
  await kafka.start();
  const beforeRestart = witness.acknowledged.length;
  await eventually(() => witness.acknowledged.length > beforeRestart, "an export acknowledged after Kafka came back", 120_000);
  running.on = false;
  await load;
  await witness.forceFlush();

  const received: ConsumedRecord[] = [];
  const consumer = bus.consumer({ groupId: uniqueName("check"), topics: [ingest.topics.spans], fromBeginning: true, handler: async (batch) => { received.push(...batch.records); } });
  await consumer.start();
  const counts = new Map<string, number>();
  const expected = new Set(witness.acknowledged.map((span) => `${span.spanContext().traceId}/${span.spanContext().spanId}`));
  // A broker that just restarted may keep a new consumer group waiting while it reloads its offsets: be patient,
  // and say how far it got when it does not make it.
  await eventually(() => {
    counts.clear();
    for (const record of received) for (const id of spanBytesById(record.value!).keys()) counts.set(id, (counts.get(id) ?? 0) + 1);
    return [...expected].every((id) => counts.has(id));
  }, `all ${expected.size} acknowledged spans in Kafka`, 150_000).catch(async (error: unknown) => {
    const found = [...expected].filter((id) => counts.has(id)).length;
    const ends = (await bus.endOffsets(ingest.topics.spans)).map((p) => p.offset).join(",");
    throw new Error(`${(error as Error).message}: ${found} found in ${received.length} records read; end offsets ${ends}`);
  });
  await consumer.stop();

  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  const notAcknowledgedButStored = [...counts.keys()].filter((id) => !expected.has(id) && !id.startsWith("0af7651916cd43dd8448eb211c80319c")).length;
  console.log(`# outage: ${expected.size} spans acknowledged, all stored; ${duplicates} duplicates; ` +
    `${notAcknowledgedButStored} stored without acknowledgement; ${witness.failedExports} exports given up by the exporter`);
  assert.ok(expected.size >= 20, "at least one export was acknowledged");
  assert.ok(statuses.includes(503));
  assert.ok(!statuses.some((s) => s !== 200 && s !== 503), `only 200 and 503 answers: ${statuses.join(",")}`);
});
