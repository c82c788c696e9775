import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../src/index.ts";

function capture(level?: "info" | "warn") {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service: "aggregator",
    instance: "pod-7",
    ...(level === undefined ? {} : { level }),
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

test("every line is JSON with service, instance, ISO time and the level as a word", () => {
  const { logger, lines } = capture();
  logger.info({ partition: 3 }, "assigned");
  const [line] = lines;
  assert.equal(line?.service, "aggregator");
  assert.equal(line.instance, "pod-7");
  assert.equal(line.level, "info");
  assert.equal(line.msg, "assigned");
  assert.equal(line.partition, 3);
  assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test("errors are serialized under err with type, message, stack and cause", () => {
  const { logger, lines } = capture();
  logger.error({ err: new Error("commit failed", { cause: new Error("broker gone") }) }, "offsets");
  const err = lines[0]?.err as { type: string; message: string; stack: string };
  assert.equal(err.type, "Error");
  assert.match(err.message, /commit failed/);
  assert.match(err.stack, /broker gone/);
});

test("component children keep the base fields, and the level filters", () => {
  const { logger, lines } = capture("warn");
  const child = logger.child({ component: "consumer" });
  child.info("dropped");
  child.warn("kept");
  assert.equal(lines.length, 1);
  assert.deepEqual([lines[0]?.component, lines[0]?.service, lines[0]?.msg], ["consumer", "aggregator", "kept"]);
});
