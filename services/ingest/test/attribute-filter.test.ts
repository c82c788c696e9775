import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ConsumedRecord } from "@meshloop/bus";
import { visitSpans } from "@meshloop/otlp";
import { eventually, uniqueName } from "@meshloop/test-harness";
import type { IngestFixture } from "./ingest-fixture.ts";
import { startIngest } from "./ingest-fixture.ts";
import { emitSpans, toProtobuf } from "./sample-spans.ts";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";

let ingest: IngestFixture;
before(async () => { ingest = await startIngest({ env: { MESHLOOP_INGEST_ATTRIBUTES_DENY: "url.path,server.*,cache.hit" } }); });
after(async () => { await ingest.stop(); });

test("denied attributes are stripped before Kafka; the ones meshloop reads stay; the stripping is counted", async () => {
  const spans = await emitSpans(10, new InMemorySpanExporter());
  const response = await fetch(`${ingest.httpUrl}/v1/traces`, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: toProtobuf(spans) });
  assert.equal(response.status, 200);
  const received: ConsumedRecord[] = [];
  const consumer = ingest.bus.consumer({ groupId: uniqueName("g"), topics: [ingest.topics.spans], fromBeginning: true, handler: async (batch) => { received.push(...batch.records); } });
  await consumer.start();
  const count = () => { let n = 0; for (const record of received) visitSpans(record.value!, () => { n++; }); return n; };
  await eventually(() => count() === 10, "10 stored spans");
  await consumer.stop();
  let seen = 0;
  for (const record of received) {
    visitSpans(record.value!, (span) => {
      seen++;
      assert.equal(span.attribute("url.path"), undefined);
      assert.equal(span.attribute("cache.hit"), undefined);
      assert.notEqual(span.attribute("http.route"), undefined, "kept: not denied");
      assert.notEqual(span.attribute("server.address"), undefined, "kept although denied by server.*: meshloop names virtual nodes from it");
    });
  }
  assert.equal(seen, 10);
  const metrics = await (await fetch(`${ingest.opsUrl}/metrics`)).text();
  assert.match(metrics, /meshloop_ingest_attributes_stripped_total 20/);
});
