import assert from "node:assert/strict";
import { test } from "node:test";
import { Health } from "../src/index.ts";

test("phases go starting -> ready -> stopping and never back", () => {
  const health = new Health();
  assert.equal(health.phase, "starting");
  assert.ok(health.isLive());
  health.markReady();
  assert.equal(health.phase, "ready");
  health.markStopping();
  health.markReady();
  assert.equal(health.phase, "stopping");
  assert.ok(!health.isLive());
});

test("probes arriving during a run share it instead of running the checks again", async () => {
  const health = new Health();
  health.markReady();
  let runs = 0;
  let release: () => void = () => {};
  health.addReadinessCheck("gate", () => {
    runs++;
    return new Promise<void>((resolve) => (release = resolve));
  });
  const first = health.readiness();
  const second = health.readiness();
  await new Promise((resolve) => setImmediate(resolve));
  release();
  const [a, b] = await Promise.all([first, second]);
  assert.equal(runs, 1);
  assert.equal(a, b);
  assert.equal(a.status, "ok");
  await health.readiness();
  assert.equal(runs, 2, "a later probe runs the checks afresh");
});

test("a shutdown beginning while checks run is reported as stopping, not ok", async () => {
  const health = new Health();
  health.markReady();
  health.addReadinessCheck("slow", () => new Promise<void>((resolve) => setTimeout(resolve, 20)));
  const report = health.readiness();
  health.markStopping();
  assert.equal((await report).status, "stopping");
});

test("checks can be removed, names are unique, and non-Error throws are reported", async () => {
  const health = new Health();
  health.markReady();
  const remove = health.addReadinessCheck("flaky", () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- libraries do throw non-Errors
    throw "plain string";
  });
  assert.throws(() => health.addReadinessCheck("flaky", () => {}), /already registered/);
  const failing = await health.readiness();
  assert.equal(failing.status, "not ready");
  assert.equal(failing.checks[0]?.error, "plain string");
  remove();
  assert.deepEqual(await health.readiness(), { status: "ok", checks: [] });
});
