import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import type { IngestFixture } from "./ingest-fixture.ts";
import { startIngest } from "./ingest-fixture.ts";
import { sampleTraceRequest } from "./sample-spans.ts";

let ingest: IngestFixture;
before(async () => {
  ingest = await startIngest({ env: { MESHLOOP_INGEST_MAX_BODY_BYTES: String(64 * 1024), MESHLOOP_INGEST_TOKEN: "s3cret" } });
});
after(async () => { await ingest.stop(); });

const auth = { authorization: "Bearer s3cret" };
const proto = { "content-type": "application/x-protobuf", ...auth };

async function post(path: string, body: Uint8Array | string, headers: Record<string, string>, method = "POST") {
  const response = await fetch(`${ingest.httpUrl}${path}`, { method, headers, body: method === "GET" ? null : body });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

test("a valid protobuf export is 200 with an empty partial success", async () => {
  const { status, headers, body } = await post("/v1/traces", sampleTraceRequest(3), proto);
  assert.equal(status, 200);
  assert.equal(headers.get("content-type"), "application/x-protobuf");
  assert.equal(body.length, 0, "ExportTraceServiceResponse with partial_success unset encodes to nothing");
});

test("a missing or wrong bearer token is 401, and nothing is stored", async () => {
  const before = (await ingest.bus.endOffsets(ingest.topics.spans)).reduce((sum, p) => sum + p.offset, 0);
  assert.equal((await post("/v1/traces", sampleTraceRequest(1), { "content-type": "application/x-protobuf" })).status, 401);
  const wrong = await post("/v1/traces", sampleTraceRequest(1), { "content-type": "application/x-protobuf", authorization: "Bearer nope" });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get("www-authenticate"), 'Bearer realm="meshloop"');
  const afterwards = (await ingest.bus.endOffsets(ingest.topics.spans)).reduce((sum, p) => sum + p.offset, 0);
  assert.equal(afterwards, before);
});

test("an oversized body is 413, an oversized gzip inflation too (a bomb is cut off)", async () => {
  assert.equal((await post("/v1/traces", Buffer.alloc(100 * 1024, 1), proto)).status, 413);
  const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0));
  assert.ok(bomb.length < 64 * 1024, "the bomb itself is small");
  const answer = await post("/v1/traces", bomb, { ...proto, "content-encoding": "gzip" });
  assert.equal(answer.status, 413);
  assert.match(answer.body.toString("latin1"), /inflates to more than 65536 bytes/);
});

test("a wrong content type or content encoding is 415", async () => {
  assert.equal((await post("/v1/traces", "x", { "content-type": "text/plain", ...auth })).status, 415);
  assert.equal((await post("/v1/traces", "x", { ...proto, "content-encoding": "br" })).status, 415);
});

test("malformed protobuf, JSON and gzip are 400 with a message naming the problem", async () => {
  const badProto = await post("/v1/traces", Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), proto);
  assert.equal(badProto.status, 400);
  const badJson = await post("/v1/traces", "{not json", { "content-type": "application/json", ...auth });
  assert.equal(badJson.status, 400);
  assert.match((JSON.parse(badJson.body.toString()) as { message: string }).message, /not valid JSON/);
  const badShape = await post("/v1/traces", JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 123 }] }] }] }), {
    "content-type": "application/json",
    ...auth,
  });
  assert.equal(badShape.status, 400);
  assert.match(badShape.body.toString(), /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId/);
  const badGzip = await post("/v1/traces", Buffer.from("not gzip"), { ...proto, "content-encoding": "gzip" });
  assert.equal(badGzip.status, 400);
});

test("an unknown path is 404 and a wrong method 405 with Allow: POST", async () => {
  assert.equal((await post("/v1/logs", "x", proto)).status, 404);
  const wrongMethod = await post("/v1/traces", "", proto, "GET");
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get("allow"), "POST");
});

test("invalid spans are rejected through partial_success while the valid rest is stored", async () => {
  const json = JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: "service.name", value: { stringValue: "checkout" } }] },
      scopeSpans: [{
        spans: [
          { traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b174", name: "ok", kind: 2, startTimeUnixNano: "1000", endTimeUnixNano: "2000" },
          { traceId: "5b8efff798038103d269b633", spanId: "eee19b7ec3c1b174", name: "short trace id", kind: 2, startTimeUnixNano: "1000", endTimeUnixNano: "2000" },
          { traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b175", name: "ends early", kind: 2, startTimeUnixNano: "3000", endTimeUnixNano: "2000" },
        ],
      }],
    }],
  });
  const answer = await post("/v1/traces", json, { "content-type": "application/json", ...auth });
  assert.equal(answer.status, 200);
  const partial = (JSON.parse(answer.body.toString()) as { partialSuccess: { rejectedSpans: string | number; errorMessage: string } }).partialSuccess;
  assert.equal(Number(partial.rejectedSpans), 2);
  assert.match(partial.errorMessage, /trace_id is 12 bytes/);
  assert.match(partial.errorMessage, /end/);
});

test("bad requests leave the server serving others", async () => {
  const results = await Promise.all([
    post("/v1/traces", Buffer.from([0xff, 0xff]), proto),
    post("/v1/traces", sampleTraceRequest(2), proto),
    post("/v1/traces", "{", { "content-type": "application/json", ...auth }),
    post("/v1/traces", sampleTraceRequest(2), proto),
  ]);
  assert.deepEqual(results.map((r) => r.status), [400, 200, 400, 200]);
  const health = await fetch(`${ingest.opsUrl}/healthz`);
  assert.equal(health.status, 200);
});
