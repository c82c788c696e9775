import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { eventually } from "@meshloop/test-harness";
import { configurationReference } from "../src/config-reference.ts";

const bin = fileURLToPath(new URL("../bin/meshloop.js", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

function meshloop(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

test("help lists the commands; an unknown command is a usage error (exit 2)", async () => {
  const help = await meshloop(["help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^\s+up\s+run the whole loop/m);
  assert.match(help.stdout, /^\s+topics\s+/m);
  const unknown = await meshloop(["fly"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "fly"/);
});

test("topics list names every topic of the loop with its key and partitioner, honouring the prefix", async () => {
  const { code, stdout } = await meshloop(["topics", "list"], { MESHLOOP_TOPIC_PREFIX: "staging" });
  assert.equal(code, 0);
  assert.match(stdout, /^staging\.meshloop\.spans\.v1\s+partitions=12 key=trace-id-hex partitioner=sarama-fnv1a/m);
  assert.equal(stdout.trim().split("\n").length, 7);
});

test("a wrong configuration value stops with exit 2 and one line naming the variable", async () => {
  const { code, stderr } = await meshloop(["up"], { MESHLOOP_HTTP_PORT: "99999" });
  assert.equal(code, 2);
  assert.match(stderr, /MESHLOOP_HTTP_PORT/);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
});

test("up runs the embedded loop: ready on /readyz with every topic, stops cleanly on SIGTERM", async (t) => {
  const child = spawn(process.execPath, [bin, "up"], {
    env: {
      ...process.env,
      MESHLOOP_HTTP_PORT: "0",
      MESHLOOP_HTTP_HOST: "127.0.0.1",
      MESHLOOP_INGEST_HOST: "127.0.0.1",
      MESHLOOP_INGEST_HTTP_PORT: "0",
      MESHLOOP_INGEST_GRPC_PORT: "0",
      MESHLOOP_CONSOLE_PORT: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // A failed assertion must not leave the loop running (it would hold the test process open).
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  await eventually(() => output.includes('"msg":"ready"'), "the ready log line", 15_000);
  const listening = JSON.parse(output.split("\n").find((line) => line.includes("ops server listening"))!) as { url: string };
  const ready = await fetch(`${listening.url}/readyz`);
  assert.equal(ready.status, 200);
  const upLine = JSON.parse(output.split("\n").find((line) => line.includes("meshloop up:"))!) as { topics: string[]; bus: string };
  assert.equal(upLine.bus, "memory");
  assert.equal(upLine.topics.length, 7);
  // The embedded ingest takes OTLP and stores it on the in-memory bus.
  const receivers = JSON.parse(output.split("\n").find((line) => line.includes("OTLP receivers listening"))!) as { http: number };
  const exported = await fetch(`http://127.0.0.1:${receivers.http}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b174", name: "GET /", kind: 2, startTimeUnixNano: "1", endTimeUnixNano: "2" }] }] }] }),
  });
  assert.equal(exported.status, 200);
  const metrics = await (await fetch(`${listening.url}/metrics`)).text();
  assert.match(metrics, /process_cpu_user_seconds_total/);
  assert.match(metrics, /meshloop_ingest_spans_total\{outcome="accepted"\} 1/);
  // The embedded aggregator runs both stages on the same in-memory bus and store, and serves the graph.
  const graph = (await (await fetch(`${listening.url}/graph`)).json()) as { edges: unknown[] };
  assert.ok(Array.isArray(graph.edges));
  await eventually(async () => /meshloop_aggregator_checkpoints_total\{stage="stage1"\} [1-9]/.test(await (await fetch(`${listening.url}/metrics`)).text()), "stage 1 checkpoints", 15_000);
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.match(output, /"msg":"shut down"/);
});

test("docs/configuration.md is what the schemas say (regenerate: pnpm exec meshloop config-reference > docs/configuration.md)", async () => {
  const onDisk = await readFile(`${repoRoot}docs/configuration.md`, "utf8");
  assert.equal(onDisk, configurationReference());
});
