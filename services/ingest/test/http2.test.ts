import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Agent, request as http1Request } from "node:http";
import type { ClientHttp2Session } from "node:http2";
import { connect } from "node:http2";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { IngestFixture } from "./ingest-fixture.ts";
import { startIngest } from "./ingest-fixture.ts";
import { sampleTraceRequest } from "./sample-spans.ts";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const ca = readFileSync(fixture("localhost-cert.pem"));

async function storedRecords(ingest: IngestFixture): Promise<number> {
  return (await ingest.bus.endOffsets(ingest.topics.spans)).reduce((sum, p) => sum + p.offset, 0);
}

/** One HTTP/2 POST on a session; resolves with the status, content type and body. */
function h2Post(session: ClientHttp2Session, path: string, body: Buffer, contentType = "application/x-protobuf") {
  return new Promise<{ status: number; contentType: string | undefined; body: Buffer }>((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": contentType });
    const chunks: Buffer[] = [];
    let status = 0;
    let type: string | undefined;
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
      type = headers["content-type"];
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve({ status, contentType: type, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.end(body);
  });
}

function http1Post(url: string, body: Buffer) {
  return new Promise<{ status: number; version: string }>((resolve, reject) => {
    const req = http1Request(url, { method: "POST", headers: { "content-type": "application/x-protobuf", "content-length": body.length } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("OTLP/HTTP over cleartext HTTP/2 (prior knowledge) and HTTP/1.1 on the same port", () => {
  let ingest: IngestFixture;
  before(async () => { ingest = await startIngest(); });
  after(async () => { await ingest.stop(); });

  test("an h2c export is stored and answered with an ExportTraceServiceResponse, several streams on one session", async () => {
    const before = await storedRecords(ingest);
    const session = connect(ingest.httpUrl);
    try {
      const answers = await Promise.all([1, 2, 3].map(() => h2Post(session, "/v1/traces", sampleTraceRequest(4))));
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        assert.equal(answer.contentType, "application/x-protobuf");
        assert.equal(answer.body.length, 0);
      }
    } finally {
      session.close();
    }
    assert.ok((await storedRecords(ingest)) > before, "the spans reached the topic");
  });

  test("bad input over HTTP/2 gets the same answers (404, 415, 400) and the session stays usable", async () => {
    const session = connect(ingest.httpUrl);
    try {
      assert.equal((await h2Post(session, "/v1/logs", Buffer.from("x"))).status, 404);
      assert.equal((await h2Post(session, "/v1/traces", Buffer.from("x"), "text/plain")).status, 415);
      const malformed = await h2Post(session, "/v1/traces", Buffer.from([0x0a, 0xff, 0xff, 0xff]));
      assert.equal(malformed.status, 400);
      assert.equal((await h2Post(session, "/v1/traces", sampleTraceRequest(1))).status, 200);
    } finally {
      session.close();
    }
  });

  test("an HTTP/1.1 client on the same port is still served as HTTP/1.1", async () => {
    const answer = await http1Post(`${ingest.httpUrl}/v1/traces`, sampleTraceRequest(2));
    assert.deepEqual(answer, { status: 200, version: "1.1" });
  });
});

describe("OTLP/HTTP over TLS: ALPN offers h2 and http/1.1", () => {
  let ingest: IngestFixture;
  before(async () => {
    ingest = await startIngest({
      env: { MESHLOOP_INGEST_TLS_CERT_FILE: fixture("localhost-cert.pem"), MESHLOOP_INGEST_TLS_KEY_FILE: fixture("localhost-key.pem") },
    });
  });
  after(async () => { await ingest.stop(); });
  const httpsUrl = () => ingest.httpUrl.replace("http:", "https:");

  test("a client offering h2 gets HTTP/2 and its export is stored", async () => {
    const before = await storedRecords(ingest);
    const session = connect(httpsUrl(), { ca, servername: "localhost" });
    try {
      const answer = await h2Post(session, "/v1/traces", sampleTraceRequest(3));
      assert.equal(answer.status, 200);
      assert.equal(session.alpnProtocol, "h2");
    } finally {
      session.close();
    }
    assert.ok((await storedRecords(ingest)) > before);
  });

  test("a client offering only http/1.1 negotiates it", async () => {
    const port = Number(new URL(ingest.httpUrl).port);
    const protocol = await new Promise<string | false | null>((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost", ALPNProtocols: ["http/1.1"] }, () => {
        resolve(socket.alpnProtocol);
        socket.end();
      });
      socket.on("error", reject);
    });
    assert.equal(protocol, "http/1.1");
  });
});

test("stop closes an idle HTTP/1.1 keep-alive connection at once, instead of waiting for the client to hang up", async () => {
  const ingest = await startIngest();
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
  const answer = await new Promise<number>((resolve, reject) => {
    const body = sampleTraceRequest(1);
    const req = http1Request(`${ingest.httpUrl}/v1/traces`, { agent, method: "POST", headers: { "content-type": "application/x-protobuf", "content-length": body.length } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
  assert.equal(answer, 200);
  const started = performance.now();
  await ingest.stop();
  agent.destroy();
  assert.ok(performance.now() - started < 2_000, `stopped in ${Math.round(performance.now() - started)} ms`);
});

test("stop waits for an HTTP/2 request in flight and ends the session, instead of hanging on it", async () => {
  const ingest = await startIngest();
  const session = connect(ingest.httpUrl);
  await h2Post(session, "/v1/traces", sampleTraceRequest(1));
  const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
  const started = performance.now();
  await ingest.stop();
  await closed;
  assert.ok(performance.now() - started < 5_000, "the idle session was ended, not waited out");
});
