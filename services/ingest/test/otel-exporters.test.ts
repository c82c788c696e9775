// Real OpenTelemetry exporters (OTLP/HTTP JSON, OTLP/HTTP protobuf with gzip, OTLP/gRPC with gzip) send spans to the
// ingest, which writes them to the real Kafka; every span must arrive once, byte-for-byte as the exporter encoded it,
// on the partition the OpenTelemetry Collector's Kafka exporter would have chosen.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Metadata } from "@grpc/grpc-js";
import { OTLPTraceExporter as GrpcExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as HttpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as HttpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Bus, ConsumedRecord } from "@meshloop/bus";
import { createKafkaBus } from "@meshloop/bus";
import { spanPartition, TOPICS } from "@meshloop/contracts";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, eventually, uniqueName } from "@meshloop/test-harness";
import type { IngestFixture } from "./ingest-fixture.ts";
import { startIngest } from "./ingest-fixture.ts";
import { emitSpans, spanBytesById, toProtobuf } from "./sample-spans.ts";

let lease: InfraLease;
let bus: Bus;
let ingest: IngestFixture;
const token = "exporter-token";

before(async () => {
  lease = await acquireInfra();
  bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "ingest-exporters-test" });
  ingest = await startIngest({ bus, env: { MESHLOOP_BUS: "kafka", MESHLOOP_INGEST_TOKEN: token } });
});
after(async () => {
  await ingest.stop();
  await bus.deleteTopics(Object.values(ingest.topics));
  await bus.close();
  await lease.release();
});

const headers = { Authorization: `Bearer ${token}` };
const exporters: Array<[string, () => SpanExporter]> = [
  ["OTLP/HTTP JSON", () => new HttpJsonExporter({ url: `${ingest.httpUrl}/v1/traces`, headers })],
  ["OTLP/HTTP protobuf, gzip", () => new HttpProtoExporter({ url: `${ingest.httpUrl}/v1/traces`, headers, compression: "gzip" as never })],
  ["OTLP/gRPC, gzip", () => {
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    return new GrpcExporter({ url: `http://${ingest.grpcAddress}`, compression: "gzip" as never, metadata: metadata });
  }],
];

test("every span sent by real exporters is in Kafka once, byte-for-byte, on the Collector's partition", async () => {
  const sent: ReadableSpan[] = [];
  for (const [, make] of exporters) sent.push(...(await emitSpans(120, make())));
  const received: ConsumedRecord[] = [];
  const consumer = bus.consumer({
    groupId: uniqueName("check"),
    topics: [ingest.topics.spans],
    fromBeginning: true,
    handler: async (batch) => { received.push(...batch.records); },
  });
  await consumer.start();
  const arrived = new Map<string, { bytes: Buffer; partition: number; count: number }>();
  await eventually(() => {
    arrived.clear();
    for (const record of received) {
      for (const [id, bytes] of spanBytesById(record.value!)) {
        const seen = arrived.get(id);
        arrived.set(id, { bytes, partition: record.partition, count: (seen?.count ?? 0) + 1 });
      }
    }
    return arrived.size >= sent.length;
  }, `${sent.length} spans in Kafka`, 30_000);
  await consumer.stop();

  assert.equal(sent.length, 360);
  for (const span of sent) {
    const id = `${span.spanContext().traceId}/${span.spanContext().spanId}`;
    const got = arrived.get(id);
    assert.ok(got, `span ${id} arrived`);
    assert.equal(got.count, 1, `span ${id} arrived once`);
    const expected = spanBytesById(toProtobuf([span])).get(id)!;
    assert.deepEqual(got.bytes, expected, `span ${id} is byte-for-byte what the exporter encoded`);
    assert.equal(got.partition, spanPartition(Buffer.from(span.spanContext().traceId, "hex"), TOPICS.spans.partitions));
  }
  for (const record of received) assert.ok(Math.abs(record.timestamp - Date.now()) < 120_000, "record time is the receive time");
});
