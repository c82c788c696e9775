import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { z } from "zod";
import { commonConfig, createServiceRuntime, envInt, loadConfig, runService } from "../src/index.ts";
import type { Service } from "../src/index.ts";
import type { LogLine } from "./fixtures/capture-logger.ts";
import { captureLogger } from "./fixtures/capture-logger.ts";

const main = new URL("./fixtures/service-main.ts", import.meta.url).pathname;

interface Child {
  lines: LogLine[];
  stderr: () => string;
  /** Resolves with the first log line matching, or rejects after a few seconds. */
  waitFor: (predicate: (line: LogLine) => boolean) => Promise<LogLine>;
  signal: (name: NodeJS.Signals) => void;
  exit: Promise<number | null>;
}

function runFixture(env: Record<string, string>): Child {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("MESHLOOP_")));
  const child = spawn(process.execPath, [main], {
    env: { ...inherited, MESHLOOP_HTTP_HOST: "127.0.0.1", MESHLOOP_HTTP_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let stdout = "";
  let stderr = "";
  const waiters: Array<() => void> = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    const complete = stdout.split("\n");
    stdout = complete.pop() ?? "";
    for (const text of complete) if (text !== "") lines.push(JSON.parse(text) as LogLine);
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  // "close", not "exit": the last log lines may still be in the pipe when the process exits.
  const exit = once(child, "close").then(([code]) => code as number | null);
  const waitFor = (predicate: (line: LogLine) => boolean) =>
    new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line; got ${JSON.stringify(lines)} ${stderr}`)), 5_000);
      const check = () => {
        const found = lines.find(predicate);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      waiters.push(check);
      check();
    });
  return { lines, stderr: () => stderr, waitFor, signal: (name) => child.kill(name), exit };
}

test("a service answers probes, stops on SIGTERM, runs its stop and exits 0", async () => {
  const child = runFixture({});
  const listening = await child.waitFor((line) => line.msg === "ops server listening");
  await child.waitFor((line) => line.msg === "ready");
  const url = String(listening.url);
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  const ready = await fetch(`${url}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(((await ready.json()) as { checks: Array<{ name: string }> }).checks.map((check) => check.name), ["worker"]);
  assert.match(await (await fetch(`${url}/metrics`)).text(), /^fixture_handled_total 1$/m);
  child.signal("SIGTERM");
  assert.equal(await child.exit, 0);
  assert.ok(child.lines.some((line) => line.marker === "worker-stop-ran"), "the service's stop ran");
  const stopped = child.lines.filter((line) => line.msg === "service stopped").map((line) => line.component);
  assert.deepEqual(stopped, ["worker", "ops-server", "telemetry"]);
  assert.equal(child.lines.at(-1)?.msg, "shut down");
});

test("a bad variable exits 2 with the one-line message on stderr and no stack trace", async () => {
  const child = runFixture({ MESHLOOP_SHUTDOWN_TIMEOUT: "abc" });
  assert.equal(await child.exit, 2);
  assert.equal(child.stderr(), 'MESHLOOP_SHUTDOWN_TIMEOUT: expected a duration between 100ms and 10m (like "5s"), got "abc"\n');
  assert.deepEqual(child.lines, []);
});

test("a stop that overruns the shutdown timeout exits 1 and names the service", async () => {
  const child = runFixture({ FIXTURE_MODE: "hang-stop", MESHLOOP_SHUTDOWN_TIMEOUT: "300ms" });
  await child.waitFor((line) => line.msg === "ready");
  child.signal("SIGTERM");
  assert.equal(await child.exit, 1);
  const overrun = child.lines.find((line) => line.msg === "service did not stop within the shutdown timeout");
  assert.equal(overrun?.component, "worker");
  assert.deepEqual(child.lines.at(-1)?.notStopped, ["worker", "ops-server", "telemetry"]);
});

test("a second signal during shutdown exits at once with 1", async () => {
  const child = runFixture({ FIXTURE_MODE: "hang-stop", MESHLOOP_SHUTDOWN_TIMEOUT: "60s" });
  await child.waitFor((line) => line.msg === "ready");
  child.signal("SIGTERM");
  await child.waitFor((line) => line.marker === "worker-stop-ran");
  const began = Date.now();
  child.signal("SIGINT");
  assert.equal(await child.exit, 1);
  assert.ok(Date.now() - began < 5_000);
  assert.ok(child.lines.some((line) => line.msg === "second signal during shutdown, exiting now"));
});

test("a failed start exits 1 after stopping what started", async () => {
  const child = runFixture({ FIXTURE_MODE: "fail-start" });
  assert.equal(await child.exit, 1);
  const failure = child.lines.find((line) => line.msg === "start failed");
  assert.match(String((failure?.err as { message?: string } | undefined)?.message), /worker failed to start: broker unreachable/);
  assert.ok(child.lines.some((line) => line.msg === "service stopped" && line.component === "ops-server"));
});

test("an unhandled rejection is logged and shuts the process down with exit 1", async () => {
  const child = runFixture({ FIXTURE_MODE: "reject" });
  assert.equal(await child.exit, 1);
  const fatal = child.lines.find((line) => line.msg === "unhandled promise rejection, shutting down");
  assert.equal(fatal?.level, "fatal");
  assert.ok(child.lines.some((line) => line.marker === "worker-stop-ran"), "the services were still stopped gracefully");
});

test("createServiceRuntime runs in-process: context, ops routes and ordered stop", async () => {
  const config = loadConfig(commonConfig({ httpPort: 0 }).extend({ LIMIT: envInt().default(3) }), {
    env: { MESHLOOP_HTTP_HOST: "127.0.0.1", MESHLOOP_SHUTDOWN_TIMEOUT: "1s" },
  });
  const { logger } = captureLogger("embedded");
  const events: string[] = [];
  const runtime = await createServiceRuntime({
    name: "embedded",
    config,
    logger,
    create: (context) => {
      context.ops.route("GET", "/limit", () => ({ body: { limit: context.config.LIMIT } }));
      const service = (name: string): Service => ({
        name,
        start: async () => void events.push(`start ${name}`),
        stop: async () => void events.push(`stop ${name}${context.signal.aborted ? " (signalled)" : ""}`),
      });
      return [service("a"), service("b")];
    },
  });
  await runtime.start();
  assert.deepEqual(await (await fetch(`${runtime.ops.address().url}/limit`)).json(), { limit: 3 });
  assert.equal((await fetch(`${runtime.ops.address().url}/readyz`)).status, 200);
  const result = await runtime.stop();
  assert.equal(result.clean, true);
  assert.deepEqual(result.services.map((entry) => entry.name), ["b", "a", "ops-server", "telemetry"]);
  assert.deepEqual(events, ["start a", "start b", "stop b (signalled)", "stop a (signalled)"]);
});

test("runService reports a bad configuration through the exit hook", async () => {
  const codes: number[] = [];
  const write = process.stderr.write.bind(process.stderr);
  let written = "";
  process.stderr.write = (chunk: string) => ((written += chunk), true);
  try {
    const runtime = await runService({
      name: "x",
      config: commonConfig({ httpPort: 0 }),
      env: { MESHLOOP_HTTP_PORT: "http" },
      create: () => [],
      exit: (code) => void codes.push(code),
    });
    assert.equal(runtime, undefined);
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(codes, [2]);
  assert.equal(written, 'MESHLOOP_HTTP_PORT: expected a port number between 0 and 65535, got "http"\n');
});

// Checked by `pnpm typecheck`: runService refuses a schema without the common variables.
export const refusesSchemaWithoutCommonConfig = () =>
  // @ts-expect-error the schema lacks commonConfig
  runService({ name: "x", config: z.object({ X: envInt() }), create: () => [] });
