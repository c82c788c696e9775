import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ServiceError } from "@grpc/grpc-js";
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import { createMemoryBus } from "@meshloop/bus";
import { WireReader } from "@meshloop/otlp";
import type { IngestFixture } from "./ingest-fixture.ts";
import { startIngest } from "./ingest-fixture.ts";
import { sampleTraceRequest } from "./sample-spans.ts";
import { stallingBus } from "./stalling-bus.ts";

const tracePath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const identity = (value: Buffer) => value;

function call(address: string, body: Buffer, token?: string): Promise<{ response?: Buffer; error?: ServiceError }> {
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(tracePath, identity, identity, body, metadata, { deadline: Date.now() + 10_000 }, (error, response) => {
      client.close();
      resolve(error ? { error } : { response: response! });
    });
  });
}

let ingest: IngestFixture;
before(async () => {
  ingest = await startIngest({ env: { MESHLOOP_INGEST_TOKEN: "t0k3n", MESHLOOP_INGEST_MAX_BODY_BYTES: String(64 * 1024) } });
});
after(async () => { await ingest.stop(); });

test("a valid export is OK with an empty response, and the spans are stored", async () => {
  const { response, error } = await call(ingest.grpcAddress, sampleTraceRequest(4), "t0k3n");
  assert.equal(error, undefined);
  assert.equal(response!.length, 0);
  const stored = (await ingest.bus.endOffsets(ingest.topics.spans)).reduce((sum, p) => sum + p.offset, 0);
  assert.ok(stored >= 1);
});

test("no token is UNAUTHENTICATED, malformed protobuf INVALID_ARGUMENT, too large RESOURCE_EXHAUSTED", async () => {
  assert.equal((await call(ingest.grpcAddress, sampleTraceRequest(1))).error?.code, status.UNAUTHENTICATED);
  const malformed = await call(ingest.grpcAddress, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), "t0k3n");
  assert.equal(malformed.error?.code, status.INVALID_ARGUMENT);
  assert.match(malformed.error.details, /truncated|length|beyond|exceeds/i);
  assert.equal((await call(ingest.grpcAddress, Buffer.alloc(100 * 1024, 1), "t0k3n")).error?.code, status.RESOURCE_EXHAUSTED);
});

test("when Kafka does not acknowledge, the answer is UNAVAILABLE with a RetryInfo delay, never OK", async () => {
  const bus = stallingBus(createMemoryBus());
  const stalled = await startIngest({ bus, env: { MESHLOOP_INGEST_PRODUCE_TIMEOUT: "300ms", MESHLOOP_INGEST_RETRY_AFTER: "3s" } });
  try {
    const { error } = await call(stalled.grpcAddress, sampleTraceRequest(2));
    assert.equal(error?.code, status.UNAVAILABLE);
    const details = error.metadata.get("grpc-status-details-bin")[0] as Buffer;
    assert.ok(Buffer.isBuffer(details), "RetryInfo travels in grpc-status-details-bin");
    assert.equal(retryDelaySeconds(details), 3);
    // Sends queued behind the stalled one are refused at once rather than queued into duplicates.
    const second = await call(stalled.grpcAddress, sampleTraceRequest(2));
    assert.equal(second.error?.code, status.UNAVAILABLE);
    bus.resume();
  } finally {
    bus.resume();
    await stalled.stop();
  }
});

/** Reads Status.details[0] (Any) -> RetryInfo.retry_delay.seconds from the bytes. */
function retryDelaySeconds(statusBytes: Buffer): number {
  const field = (bytes: Uint8Array, wanted: number): Uint8Array => {
    const r = new WireReader(bytes);
    while (r.more()) {
      const tag = r.tag();
      if (tag >>> 3 === wanted && (tag & 7) === 2) {
        const length = r.length();
        const start = r.pos;
        return bytes.subarray(start, start + length);
      }
      r.skip(tag);
    }
    throw new Error(`field ${wanted} not found`);
  };
  const any = field(statusBytes, 3);
  assert.equal(Buffer.from(field(any, 1)).toString(), "type.googleapis.com/google.rpc.RetryInfo");
  const duration = field(field(any, 2), 1);
  const r = new WireReader(duration);
  assert.equal(r.tag(), 0x08);
  return r.varint32();
}
