import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "@meshloop/errors";
import { z } from "zod";
import {
  commonConfig,
  describeConfig,
  envBool,
  envDurationMs,
  envInt,
  envList,
  envString,
  isSecretVariable,
  loadConfig,
  redactConfig,
} from "../src/index.ts";

const schema = z.object({
  MESHLOOP_WINDOW: envDurationMs({ min: "1s", max: "60s" }).default(5_000).describe("Aggregation window."),
  MESHLOOP_KAFKA_BROKERS: envList({ example: "kafka:9092" }).describe("Kafka bootstrap brokers."),
  MESHLOOP_BATCH_SIZE: envInt({ min: 1, max: 10_000 }).default(500).describe("Records per batch."),
  MESHLOOP_DRY_RUN: envBool().default(false).describe("Decide but do not actuate."),
  MESHLOOP_API_TOKEN: envString().optional().describe("Token for the mesh API."),
});

const brokers = { MESHLOOP_KAFKA_BROKERS: "kafka:9092" };

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected loadConfig to throw");
}

function tempFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "meshloop-config-")), "config.json");
  writeFileSync(path, content);
  return path;
}

test("defaults apply to unset and empty variables", () => {
  const config = loadConfig(schema, { env: { ...brokers, MESHLOOP_BATCH_SIZE: "" } });
  assert.deepEqual(config, {
    MESHLOOP_WINDOW: 5_000,
    MESHLOOP_KAFKA_BROKERS: ["kafka:9092"],
    MESHLOOP_BATCH_SIZE: 500,
    MESHLOOP_DRY_RUN: false,
  });
});

test("environment values are parsed into their types", () => {
  const config = loadConfig(schema, {
    env: { MESHLOOP_KAFKA_BROKERS: "a:9092, b:9092", MESHLOOP_WINDOW: "2s", MESHLOOP_BATCH_SIZE: "50", MESHLOOP_DRY_RUN: "yes" },
  });
  assert.deepEqual(config.MESHLOOP_KAFKA_BROKERS, ["a:9092", "b:9092"]);
  assert.equal(config.MESHLOOP_WINDOW, 2_000);
  assert.equal(config.MESHLOOP_BATCH_SIZE, 50);
  assert.equal(config.MESHLOOP_DRY_RUN, true);
});

test("the config file fills in what the environment does not set, and the environment wins", () => {
  const file = tempFile(JSON.stringify({ MESHLOOP_WINDOW: "30s", MESHLOOP_BATCH_SIZE: 20, MESHLOOP_KAFKA_BROKERS: ["f1:9092", "f2:9092"] }));
  const config = loadConfig(schema, { env: { MESHLOOP_CONFIG_FILE: file, MESHLOOP_BATCH_SIZE: "7" } });
  assert.equal(config.MESHLOOP_WINDOW, 30_000);
  assert.deepEqual(config.MESHLOOP_KAFKA_BROKERS, ["f1:9092", "f2:9092"]);
  assert.equal(config.MESHLOOP_BATCH_SIZE, 7);
});

test("the file option overrides MESHLOOP_CONFIG_FILE", () => {
  const named = tempFile(JSON.stringify({ MESHLOOP_BATCH_SIZE: 1 }));
  const given = tempFile(JSON.stringify({ MESHLOOP_BATCH_SIZE: 2 }));
  const config = loadConfig(schema, { env: { ...brokers, MESHLOOP_CONFIG_FILE: named }, file: given });
  assert.equal(config.MESHLOOP_BATCH_SIZE, 2);
});

test("a prefix lets a scoped name win over the shared one, wherever each is set", () => {
  const file = tempFile(JSON.stringify({ MESHLOOP_AGGREGATOR_BATCH_SIZE: 9 }));
  const env = { ...brokers, MESHLOOP_BATCH_SIZE: "1", MESHLOOP_WINDOW: "3s", MESHLOOP_AGGREGATOR_WINDOW: "4s", MESHLOOP_CONFIG_FILE: file };
  const scoped = loadConfig(schema, { env, prefix: "MESHLOOP_AGGREGATOR_" });
  assert.equal(scoped.MESHLOOP_WINDOW, 4_000);
  assert.equal(scoped.MESHLOOP_BATCH_SIZE, 9);
  assert.equal(loadConfig(schema, { env }).MESHLOOP_WINDOW, 3_000);
});

test("each problem is one line naming the variable, what is allowed and what was given", () => {
  const error = configError(() =>
    loadConfig(schema, { env: { MESHLOOP_WINDOW: "abc", MESHLOOP_BATCH_SIZE: "0", MESHLOOP_DRY_RUN: "maybe" } }),
  );
  assert.deepEqual(error.message.split("\n"), [
    'MESHLOOP_WINDOW: expected a duration between 1s and 60s (like "5s"), got "abc"',
    'MESHLOOP_KAFKA_BROKERS: expected a comma-separated list (like "kafka:9092"), got nothing (not set)',
    'MESHLOOP_BATCH_SIZE: expected an integer between 1 and 10000, got "0"',
    'MESHLOOP_DRY_RUN: expected one of true, false, 1, 0, yes, no, got "maybe"',
  ]);
});

test("problems name the scoped variable and the file a bad value came from", () => {
  const file = tempFile(JSON.stringify({ MESHLOOP_BATCH_SIZE: "lots" }));
  const error = configError(() =>
    loadConfig(schema, { env: { ...brokers, MESHLOOP_CONFIG_FILE: file, MESHLOOP_AGG_WINDOW: "2h" }, prefix: "MESHLOOP_AGG_" }),
  );
  assert.deepEqual(error.message.split("\n"), [
    'MESHLOOP_AGG_WINDOW: expected a duration between 1s and 60s (like "5s"), got "2h"',
    `MESHLOOP_BATCH_SIZE: expected an integer between 1 and 10000, got "lots" (from ${file})`,
  ]);
});

test("values of secret variables are never echoed", () => {
  const secrets = z.object({
    MESHLOOP_API_TOKEN: envString({ pattern: /^tok_/ }),
    MESHLOOP_REDIS_PASSWORD: envInt(),
    MESHLOOP_SIGNING_KEY: envInt(),
  });
  const error = configError(() =>
    loadConfig(secrets, { env: { MESHLOOP_API_TOKEN: "hunter2", MESHLOOP_REDIS_PASSWORD: "hunter3", MESHLOOP_SIGNING_KEY: "hunter4" } }),
  );
  assert.doesNotMatch(error.message, /hunter/);
  assert.equal(error.message.split("\n").length, 3);
  assert.match(error.message, /^MESHLOOP_API_TOKEN: expected a value matching \/\^tok_\/, got a value that is not shown \(secret\)$/m);
  assert.ok(isSecretVariable("MESHLOOP_SIGNING_KEY"));
  assert.ok(!isSecretVariable("MESHLOOP_WINDOW"));
});

test("long values are cut so that the line stays readable", () => {
  const error = configError(() => loadConfig(schema, { env: { ...brokers, MESHLOOP_WINDOW: "x".repeat(500) } }));
  assert.ok(error.message.length < 200, error.message);
  assert.match(error.message, /got "x+"…$/);
});

test("schemas without the helpers still produce one line per problem", () => {
  const plain = z.object({ NAME: z.string().min(3), COUNT: z.string() });
  const error = configError(() => loadConfig(plain, { env: { NAME: "ab" } }));
  const lines = error.message.split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^NAME: .*>=3 characters, got "ab"$/);
  assert.equal(lines[1], "COUNT: expected a value, got nothing (not set)");
});

test("an unreadable, malformed or misshapen config file is one ConfigError line", () => {
  const missing = join(tmpdir(), "meshloop-no-such-file.json");
  assert.equal(configError(() => loadConfig(schema, { env: brokers, file: missing })).message, `MESHLOOP_CONFIG_FILE: cannot read "${missing}" (ENOENT)`);
  const malformed = tempFile("{ nope");
  assert.match(configError(() => loadConfig(schema, { env: brokers, file: malformed })).message, /^MESHLOOP_CONFIG_FILE: ".*" is not valid JSON \(.*\)$/);
  const list = tempFile("[1, 2]");
  assert.match(configError(() => loadConfig(schema, { env: brokers, file: list })).message, /must hold a JSON object/);
  const nested = tempFile(JSON.stringify({ MESHLOOP_BATCH_SIZE: { value: 3 } }));
  assert.equal(
    configError(() => loadConfig(schema, { env: brokers, file: nested })).message,
    `MESHLOOP_BATCH_SIZE: expected a string, number, boolean or list in ${nested}, got an object`,
  );
});

test("describeConfig lists every variable with its default as an operator would write it", () => {
  assert.deepEqual(describeConfig(schema), [
    { variable: "MESHLOOP_WINDOW", default: "5s", required: false, description: "Aggregation window." },
    { variable: "MESHLOOP_KAFKA_BROKERS", default: undefined, required: true, description: "Kafka bootstrap brokers." },
    { variable: "MESHLOOP_BATCH_SIZE", default: "500", required: false, description: "Records per batch." },
    { variable: "MESHLOOP_DRY_RUN", default: "false", required: false, description: "Decide but do not actuate." },
    { variable: "MESHLOOP_API_TOKEN", default: undefined, required: false, description: "Token for the mesh API." },
  ]);
});

test("describeConfig finds descriptions given before the default, and documented computed defaults", () => {
  const rows = describeConfig(
    z.object({
      A: envList().describe("Listed first.").default(["x", "y"]),
      B: envString().prefault("raw text").describe("A prefault."),
    }),
  );
  assert.deepEqual(rows, [
    { variable: "A", default: "x,y", required: false, description: "Listed first." },
    { variable: "B", default: "raw text", required: false, description: "A prefault." },
  ]);
  const common = describeConfig(commonConfig({ httpPort: 9102 }));
  const byName = new Map(common.map((row) => [row.variable, row]));
  assert.equal(byName.get("MESHLOOP_SERVICE_INSTANCE_ID")?.default, "<hostname>-<pid>");
  assert.equal(byName.get("MESHLOOP_HTTP_PORT")?.default, "9102");
  assert.equal(byName.get("MESHLOOP_SHUTDOWN_TIMEOUT")?.default, "10s");
  assert.ok(common.every((row) => row.description.length > 0), "every common variable is described");
});

test("commonConfig defaults suit a container and parse overrides", () => {
  const config = loadConfig(commonConfig({ httpPort: 9101 }), { env: { MESHLOOP_LOG_LEVEL: "DEBUG", MESHLOOP_SHUTDOWN_TIMEOUT: "30s" } });
  assert.equal(config.MESHLOOP_HTTP_HOST, "0.0.0.0");
  assert.equal(config.MESHLOOP_HTTP_PORT, 9101);
  assert.equal(config.MESHLOOP_LOG_LEVEL, "debug");
  assert.equal(config.MESHLOOP_SHUTDOWN_TIMEOUT, 30_000);
  assert.equal(config.MESHLOOP_OTEL_ENABLED, false);
  assert.equal(config.MESHLOOP_SERVICE_INSTANCE_ID, `${hostname()}-${process.pid}`);
});

test("redactConfig hides secret values only", () => {
  assert.deepEqual(redactConfig({ MESHLOOP_API_TOKEN: "t", MESHLOOP_WINDOW: 5_000, MESHLOOP_DB_PASSWORD: undefined }), {
    MESHLOOP_API_TOKEN: "[redacted]",
    MESHLOOP_WINDOW: 5_000,
    MESHLOOP_DB_PASSWORD: undefined,
  });
});
