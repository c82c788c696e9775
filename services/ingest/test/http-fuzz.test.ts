// Property-based fuzzing of the OTLP/HTTP receiver: random bytes and random mutations of valid requests, over the
// protobuf and JSON paths. Every answer must be a well-formed OTLP answer (200 with a response, or 400 with a
// Status), never a crash or a hang, and the server must keep serving valid requests.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import type { IngestFixture } from "./ingest-fixture.ts";
import { startIngest } from "./ingest-fixture.ts";
import { sampleTraceRequest } from "./sample-spans.ts";

let ingest: IngestFixture;
before(async () => { ingest = await startIngest(); });
after(async () => { await ingest.stop(); });

const valid = sampleTraceRequest(5);
const validJson = JSON.stringify({
  resourceSpans: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "fuzz" } }] },
    scopeSpans: [{ spans: [{ traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b174", name: "x", kind: 2, startTimeUnixNano: "1", endTimeUnixNano: "2", attributes: [{ key: "k", value: { intValue: "7" } }] }] }] }],
});

async function post(body: Uint8Array | string, contentType: string) {
  const response = await fetch(`${ingest.httpUrl}/v1/traces`, { method: "POST", headers: { "content-type": contentType }, body });
  return { status: response.status, type: response.headers.get("content-type"), body: Buffer.from(await response.arrayBuffer()) };
}

const mutatedProtobuf = fc.tuple(fc.nat(valid.length - 1), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat(4)).map(([at, bytes, cut]) => {
  const copy = Buffer.from(valid);
  copy.set(bytes.subarray(0, Math.min(bytes.length, copy.length - at)), at);
  return copy.subarray(0, copy.length - cut);
});

test("protobuf: random and mutated bodies always get 200 or 400 with an OTLP body", async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 512 }), mutatedProtobuf), async (body) => {
      const answer = await post(body, "application/x-protobuf");
      assert.ok(answer.status === 200 || answer.status === 400, `status ${answer.status}`);
      assert.equal(answer.type, "application/x-protobuf");
    }),
    { numRuns: 150 },
  );
});

test("JSON: random and mutated documents always get 200 or 400 with a JSON body", async () => {
  const mutatedJson = fc.tuple(fc.nat(validJson.length - 1), fc.string({ maxLength: 6 })).map(([at, text]) => validJson.slice(0, at) + text + validJson.slice(at + text.length));
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.json(), mutatedJson), async (body) => {
      const answer = await post(body, "application/json");
      assert.ok(answer.status === 200 || answer.status === 400, `status ${answer.status} for ${body.slice(0, 80)}`);
      assert.doesNotThrow(() => JSON.parse(answer.body.toString()) as unknown);
    }),
    { numRuns: 150 },
  );
  assert.equal((await post(valid, "application/x-protobuf")).status, 200, "still serving valid requests");
});
