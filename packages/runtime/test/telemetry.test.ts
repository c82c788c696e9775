import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { test } from "node:test";
import { promisify } from "node:util";
import { createTelemetry, getTracer } from "../src/index.ts";
import { captureLogger } from "./fixtures/capture-logger.ts";

const probe = new URL("./fixtures/telemetry-probe.ts", import.meta.url).pathname;

async function probeResolved(setting: "on" | "off"): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [probe], { env: { ...process.env, PROBE_TELEMETRY: setting } });
  return (JSON.parse(stdout) as { resolved: string[] }).resolved;
}

test("with telemetry off the SDK is never loaded; with it on, it is", async () => {
  assert.deepEqual(await probeResolved("off"), []);
  assert.ok((await probeResolved("on")).includes("@opentelemetry/sdk-node"), "the probe does see the SDK when it loads");
});

test("with telemetry on, spans reach the OTLP endpoint with the service name and instance id", async (t) => {
  const received: Array<{ path: string | undefined; type: string | undefined; body: Buffer }> = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ path: req.url, type: req.headers["content-type"], body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => collector.close(() => resolve())));
  const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  const before = { ...process.env };

  const { logger, lines } = captureLogger();
  const telemetry = createTelemetry({ enabled: true, serviceName: "meshloop-decision", instanceId: "decision-pod-3", endpoint, logger });
  assert.equal(telemetry.enabled, true);
  await telemetry.start();
  assert.deepEqual({ ...process.env }, before, "the OTEL_* variables handed to the SDK are put back");
  getTracer("meshloop-test").startSpan("evaluate-policies").end();
  await telemetry.stop();

  assert.equal(received.length, 1);
  const [request] = received;
  assert.equal(request?.path, "/v1/traces");
  assert.equal(request.type, "application/x-protobuf");
  for (const text of ["evaluate-policies", "meshloop-decision", "decision-pod-3"]) {
    assert.ok(request.body.includes(text), `the export carries ${text}`);
  }
  assert.ok(lines.some((line) => line.msg === "telemetry started" && line.endpoint === endpoint));
});

test("a disabled telemetry starts and stops as a no-op", async () => {
  const { logger, lines } = captureLogger();
  const telemetry = createTelemetry({ enabled: false, serviceName: "x", instanceId: "x-1", logger });
  await telemetry.start();
  await telemetry.stop();
  assert.equal(telemetry.enabled, false);
  assert.equal(lines.length, 0);
});
