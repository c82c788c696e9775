import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { TestContext } from "node:test";
import { test } from "node:test";
import { createMetrics, createOpsServer, Health } from "../src/index.ts";
import type { OpsServer } from "../src/index.ts";
import { captureLogger } from "./fixtures/capture-logger.ts";

async function startOps(t: TestContext, ready = true) {
  const metrics = createMetrics({ defaultMetrics: false });
  const { logger, lines } = captureLogger();
  const health = new Health({ checkTimeoutMs: 200 });
  const ops = createOpsServer({ host: "127.0.0.1", port: 0, registry: metrics.registry, logger, health });
  await ops.start();
  t.after(() => ops.stop());
  if (ready) health.markReady();
  return { ops, metrics, health, lines, url: (path: string) => `${ops.address().url}${path}` };
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

test("binds to port 0 and exposes the address it got", async (t) => {
  const { ops } = await startOps(t);
  const address = ops.address();
  assert.equal(address.host, "127.0.0.1");
  assert.ok(address.port > 0);
  assert.equal(address.url, `http://127.0.0.1:${address.port}`);
});

test("GET /healthz is 200 while live and 503 once stopping", async (t) => {
  const { url, health } = await startOps(t);
  assert.deepEqual(await getJson(url("/healthz")).then(({ status, body }) => ({ status, body })), { status: 200, body: { status: "ok" } });
  health.markStopping();
  assert.deepEqual(await getJson(url("/healthz")).then(({ status, body }) => ({ status, body })), { status: 503, body: { status: "stopping" } });
});

test("GET /readyz is 200 with every check's status when all pass", async (t) => {
  const { url, ops } = await startOps(t);
  ops.addReadinessCheck("kafka", async () => {});
  ops.addReadinessCheck("redis", () => {});
  const { status, body, headers } = await getJson(url("/readyz"));
  assert.equal(status, 200);
  assert.equal(headers.get("content-type"), "application/json; charset=utf-8");
  const report = body as { status: string; checks: Array<{ name: string; status: string }> };
  assert.equal(report.status, "ok");
  assert.deepEqual(report.checks.map(({ name, status: checkStatus }) => [name, checkStatus]), [["kafka", "ok"], ["redis", "ok"]]);
});

test("GET /readyz is 503 naming the failed check and why", async (t) => {
  const { url, ops } = await startOps(t);
  ops.addReadinessCheck("kafka", async () => {});
  ops.addReadinessCheck("redis", async () => {
    throw new Error("ECONNREFUSED 127.0.0.1:6379");
  });
  const { status, body } = await getJson(url("/readyz"));
  assert.equal(status, 503);
  const report = body as { status: string; checks: Array<{ name: string; status: string; error?: string }> };
  assert.equal(report.status, "not ready");
  const redis = report.checks.find((check) => check.name === "redis");
  assert.equal(redis?.status, "failed");
  assert.equal(redis.error, "ECONNREFUSED 127.0.0.1:6379");
  assert.equal(report.checks.find((check) => check.name === "kafka")?.status, "ok");
});

test("GET /readyz fails a check that outlives its timeout and aborts it", async (t) => {
  const { url, ops } = await startOps(t);
  let aborted = false;
  ops.addReadinessCheck(
    "slow",
    (signal) =>
      new Promise<void>((resolve) => {
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve();
        });
      }),
    { timeoutMs: 50 },
  );
  const started = Date.now();
  const { status, body } = await getJson(url("/readyz"));
  assert.equal(status, 503);
  assert.ok(Date.now() - started < 1_000, "the probe does not wait for the check");
  const [check] = (body as { checks: Array<{ status: string; error: string }> }).checks;
  assert.equal(check?.status, "failed");
  assert.equal(check?.error, "timed out after 50ms");
  assert.ok(aborted);
});

test("GET /readyz is 503 before the service is ready and while it shuts down, without running checks", async (t) => {
  const { url, ops, health } = await startOps(t, false);
  let runs = 0;
  ops.addReadinessCheck("counted", () => void runs++);
  assert.deepEqual(await getJson(url("/readyz")).then(({ status, body }) => ({ status, body })), { status: 503, body: { status: "starting", checks: [] } });
  health.markReady();
  assert.equal((await getJson(url("/readyz"))).status, 200);
  health.markStopping();
  assert.deepEqual(await getJson(url("/readyz")).then(({ status, body }) => ({ status, body })), { status: 503, body: { status: "stopping", checks: [] } });
  assert.equal(runs, 1);
});

test("GET /metrics serves the registry in Prometheus text format", async (t) => {
  const { url, metrics } = await startOps(t);
  metrics.counter({ name: "meshloop_spans_ingested_total", help: "Spans ingested.", labelNames: ["topic"] }).inc({ topic: "spans" }, 3);
  const response = await fetch(url("/metrics"));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await response.text();
  assert.match(text, /^# TYPE meshloop_spans_ingested_total counter$/m);
  assert.match(text, /^meshloop_spans_ingested_total\{topic="spans"\} 3$/m);
});

test("unknown paths are 404 JSON and wrong methods 405 with Allow", async (t) => {
  const { url } = await startOps(t);
  assert.deepEqual(await getJson(url("/nope?x=1")).then(({ status, body }) => ({ status, body })), {
    status: 404,
    body: { error: "not found", path: "/nope" },
  });
  const wrong = await getJson(url("/metrics"), { method: "POST" });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, HEAD");
  assert.deepEqual(wrong.body, { error: "method not allowed", allowed: "GET, HEAD" });
});

test("services mount extra routes; handler errors are 500 and logged", async (t) => {
  const { url, ops, lines } = await startOps(t);
  ops.route("GET", "/graph", ({ query }) => ({ body: { nodes: [query.get("service")] } }));
  ops.route("POST", "/graph", () => ({ status: 202 }));
  ops.route("GET", "/broken", () => {
    throw new Error("graph not built");
  });
  assert.deepEqual((await getJson(url("/graph?service=checkout"))).body, { nodes: ["checkout"] });
  assert.equal((await fetch(url("/graph"), { method: "POST" })).status, 202);
  const head = await fetch(url("/graph"), { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const broken = await getJson(url("/broken"));
  assert.deepEqual({ status: broken.status, body: broken.body }, { status: 500, body: { error: "internal error" } });
  assert.ok(lines.some((line) => line.msg === "ops route failed" && line.path === "/broken"));
  assert.throws(() => ops.route("GET", "/metrics", () => ({})), /already mounted/);
});

test("start fails clearly when the port is taken, and address() before start throws", async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as { port: number }).port;
  const { logger } = captureLogger();
  const ops: OpsServer = createOpsServer({ host: "127.0.0.1", port, registry: createMetrics({ defaultMetrics: false }).registry, logger });
  assert.throws(() => ops.address(), /not listening/);
  await assert.rejects(ops.start(), new RegExp(`ops server cannot listen on 127.0.0.1:${port} \\(EADDRINUSE\\)`));
  await ops.stop();
});
