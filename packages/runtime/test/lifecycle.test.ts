import assert from "node:assert/strict";
import { test } from "node:test";
import { MeshloopError } from "@meshloop/errors";
import { Health, Lifecycle } from "../src/index.ts";
import type { Service } from "../src/index.ts";
import { captureLogger } from "./fixtures/capture-logger.ts";

interface Behaviour {
  failStart?: boolean;
  hangStop?: boolean;
  failStop?: boolean;
  startDelayMs?: number;
}

function recorder() {
  const events: string[] = [];
  const service = (name: string, behaviour: Behaviour = {}): Service => ({
    name,
    async start() {
      events.push(`start ${name}`);
      if (behaviour.startDelayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, behaviour.startDelayMs));
      if (behaviour.failStart === true) throw new Error(`${name} cannot connect`);
    },
    async stop() {
      events.push(`stop ${name}`);
      if (behaviour.hangStop === true) await new Promise(() => {});
      if (behaviour.failStop === true) throw new Error(`${name} flush failed`);
    },
  });
  return { events, service };
}

test("starts services in order, stops them in reverse, and reports a clean stop", async () => {
  const { events, service } = recorder();
  const { logger } = captureLogger();
  const health = new Health();
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1_000, health }, [service("consumer"), service("producer")]);
  lifecycle.add(service("engine"));
  assert.equal(health.phase, "starting");
  await lifecycle.start();
  assert.equal(lifecycle.state, "running");
  assert.equal(health.phase, "ready");
  const result = await lifecycle.stop();
  assert.deepEqual(events, ["start consumer", "start producer", "start engine", "stop engine", "stop producer", "stop consumer"]);
  assert.equal(result.clean, true);
  assert.equal(result.timedOut, false);
  assert.deepEqual(result.services.map((entry) => [entry.name, entry.outcome]), [["engine", "stopped"], ["producer", "stopped"], ["consumer", "stopped"]]);
  assert.equal(lifecycle.state, "stopped");
  assert.equal(health.phase, "stopping");
  assert.ok(lifecycle.signal.aborted);
  assert.equal(await lifecycle.stop(), result, "stop is idempotent");
  assert.throws(() => lifecycle.add(service("late")), /stopped/);
});

test("a stop that hangs past the timeout is reported by name and the result says so", async () => {
  const { events, service } = recorder();
  const { logger, lines } = captureLogger();
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 100 }, [service("ops"), service("consumer", { hangStop: true }), service("engine")]);
  await lifecycle.start();
  const began = Date.now();
  const result = await lifecycle.stop();
  const took = Date.now() - began;
  assert.ok(took >= 90 && took < 1_000, `stop took ${took}ms`);
  assert.equal(result.clean, false);
  assert.equal(result.timedOut, true);
  assert.deepEqual(result.services.map((entry) => [entry.name, entry.outcome]), [["engine", "stopped"], ["consumer", "timed out"], ["ops", "not stopped"]]);
  assert.deepEqual(events.filter((event) => event.startsWith("stop")), ["stop engine", "stop consumer"]);
  const report = lines.find((line) => line.msg === "service did not stop within the shutdown timeout");
  assert.equal(report?.component, "consumer");
  assert.equal(report.timeoutMs, 100);
});

test("a stop that throws is recorded and the remaining services still stop", async () => {
  const { events, service } = recorder();
  const { logger } = captureLogger();
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1_000 }, [service("a"), service("b", { failStop: true }), service("c")]);
  await lifecycle.start();
  const result = await lifecycle.stop();
  assert.equal(result.clean, false);
  assert.equal(result.timedOut, false);
  assert.deepEqual(events.filter((event) => event.startsWith("stop")), ["stop c", "stop b", "stop a"]);
  const failed = result.services.find((entry) => entry.name === "b");
  assert.equal(failed?.outcome, "failed");
  assert.match(String(failed.error), /b flush failed/);
});

test("a failed start stops what already started, in reverse, and names the service", async () => {
  const { events, service } = recorder();
  const { logger } = captureLogger();
  const health = new Health();
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1_000, health }, [service("a"), service("b"), service("kafka", { failStart: true }), service("never")]);
  await assert.rejects(lifecycle.start(), (error: unknown) => {
    assert.ok(error instanceof MeshloopError);
    assert.equal(error.message, "kafka failed to start: kafka cannot connect");
    assert.equal(error.context.service, "kafka");
    return true;
  });
  assert.deepEqual(events, ["start a", "start b", "start kafka", "stop b", "stop a"]);
  assert.notEqual(health.phase, "ready");
  const result = await lifecycle.stop();
  assert.deepEqual(result.services.map((entry) => entry.name), ["b", "a"]);
  await assert.rejects(lifecycle.start(), /already/);
});

test("stop during start waits for the service being started, skips the rest and stops the started ones", async () => {
  const { events, service } = recorder();
  const { logger } = captureLogger();
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1_000 }, [service("a"), service("slow", { startDelayMs: 50 }), service("never")]);
  const starting = lifecycle.start();
  await new Promise((resolve) => setTimeout(resolve, 10));
  const result = await lifecycle.stop();
  await assert.rejects(starting, /interrupted by shutdown/);
  assert.deepEqual(events, ["start a", "start slow", "stop slow", "stop a"]);
  assert.equal(result.clean, true);
});

test("a start that outlives the shutdown timeout is reported as timed out", async () => {
  const { service } = recorder();
  const { logger } = captureLogger();
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 50 }, [service("a"), service("stuck", { startDelayMs: 400 })]);
  const starting = lifecycle.start().catch((error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 10));
  const result = await lifecycle.stop();
  assert.equal(result.timedOut, true);
  assert.deepEqual(result.services.map((entry) => [entry.name, entry.outcome]), [["stuck", "timed out"], ["a", "not stopped"]]);
  assert.ok((await starting) instanceof Error);
});
