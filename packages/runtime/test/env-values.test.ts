import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "@meshloop/errors";
import { z } from "zod";
import {
  envBool,
  envDurationMs,
  envEnum,
  envInt,
  envList,
  envPort,
  envString,
  envUrl,
  formatDuration,
  loadConfig,
  parseDuration,
} from "../src/index.ts";

// Each helper is exercised through loadConfig so that the messages checked are the ones an operator sees.
function accepts(schema: z.ZodType, cases: Array<[string, unknown]>): void {
  for (const [raw, expected] of cases) {
    assert.deepEqual(loadConfig(z.object({ V: schema }), { env: { V: raw } }).V, expected, `V=${raw}`);
  }
}

function rejects(schema: z.ZodType, raws: string[], message: string): void {
  for (const raw of raws) {
    assert.throws(
      () => loadConfig(z.object({ V: schema }), { env: { V: raw } }),
      (error: unknown) => error instanceof ConfigError && error.message === `V: ${message}, got ${JSON.stringify(raw)}`,
      `V=${raw}`,
    );
  }
}

test("envList splits on commas, trims and drops empty items", () => {
  accepts(envList(), [["a", ["a"]], ["a, b ,c", ["a", "b", "c"]], ["a,,b,", ["a", "b"]]]);
  rejects(envList(), [",", " , "], 'expected a comma-separated list (like "a,b")');
});

test("envList enforces item count and item pattern", () => {
  const hostPorts = envList({ min: 2, pattern: /^[\w.-]+:\d+$/, example: "k1:9092,k2:9092" });
  accepts(hostPorts, [["k1:9092,k2:9092", ["k1:9092", "k2:9092"]]]);
  rejects(hostPorts, ["k1:9092", "k1:9092,k2"], 'expected a comma-separated list of at least 2 items (like "k1:9092,k2:9092")');
  rejects(envList({ max: 2 }), ["a,b,c"], 'expected a comma-separated list of 1 to 2 items (like "a,b")');
});

test("envInt accepts whole numbers inside the bounds only", () => {
  accepts(envInt(), [["0", 0], ["-12", -12], [" 42 ", 42], ["+7", 7]]);
  accepts(envInt({ min: 1, max: 10 }), [["1", 1], ["10", 10]]);
  rejects(envInt({ min: 1, max: 10 }), ["0", "11", "1.5", "1e3", "ten", "0x10"], "expected an integer between 1 and 10");
  rejects(envInt({ min: 1 }), ["0"], "expected an integer >= 1");
  rejects(envInt({ max: 5 }), ["6"], "expected an integer <= 5");
  rejects(envInt(), ["99999999999999999999"], "expected an integer");
});

test("envPort accepts 0 to 65535", () => {
  accepts(envPort(), [["0", 0], ["8080", 8080], ["65535", 65_535]]);
  rejects(envPort(), ["65536", "-1", "http", "80.5"], "expected a port number between 0 and 65535");
});

test("envDurationMs reads units and plain milliseconds", () => {
  accepts(envDurationMs(), [["250ms", 250], ["5s", 5_000], ["1m", 60_000], ["1h", 3_600_000], ["1.5s", 1_500], ["42", 42], ["2 S", 2_000]]);
  rejects(envDurationMs(), ["abc", "-5s", "5d", "s", "1m30s"], 'expected a duration (like "5s")');
});

test("envDurationMs bounds appear in the message as written, with an example inside them", () => {
  rejects(envDurationMs({ min: "1s", max: "60s" }), ["999ms", "61s", "abc"], 'expected a duration between 1s and 60s (like "5s")');
  rejects(envDurationMs({ min: 60_000 }), ["59s"], 'expected a duration of at least 1m (like "1m")');
  rejects(envDurationMs({ max: "200ms" }), ["1s"], 'expected a duration of at most 200ms (like "100ms")');
  rejects(envDurationMs({ example: "15s" }), ["x"], 'expected a duration (like "15s")');
  assert.throws(() => envDurationMs({ min: "soon" }), RangeError);
});

test("envBool reads the six words in any case", () => {
  accepts(envBool(), [["true", true], ["TRUE", true], ["1", true], ["yes", true], ["false", false], ["0", false], ["No", false]]);
  rejects(envBool(), ["on", "2", "y"], "expected one of true, false, 1, 0, yes, no");
});

test("envUrl accepts absolute URLs with the allowed schemes", () => {
  accepts(envUrl(), [["http://collector:4318", "http://collector:4318"], [" https://x.example/v1 ", "https://x.example/v1"]]);
  rejects(envUrl(), ["collector:4318", "/v1/traces", "ftp://x"], 'expected a URL with scheme http or https (like "http://localhost:4318")');
  accepts(envUrl({ protocols: ["redis", "rediss"] }), [["redis://cache:6379/0", "redis://cache:6379/0"]]);
  rejects(envUrl({ protocols: ["redis", "rediss"] }), ["http://cache"], 'expected a URL with scheme redis or rediss (like "redis://localhost")');
});

test("envEnum matches without regard to case and returns the canonical word", () => {
  const mode = envEnum(["observe", "enforce"]);
  accepts(mode, [["observe", "observe"], ["ENFORCE", "enforce"]]);
  rejects(mode, ["off"], "expected one of observe, enforce");
  const typed: "observe" | "enforce" = loadConfig(z.object({ V: mode }), { env: { V: "observe" } }).V;
  assert.equal(typed, "observe");
});

test("envString refuses what does not match its pattern", () => {
  accepts(envString(), [["meshloop", "meshloop"]]);
  rejects(envString({ pattern: /^[a-z-]+$/, example: "spans-raw" }), ["Spans!"], 'expected a value matching /^[a-z-]+$/ (like "spans-raw")');
});

test("parseDuration and formatDuration round-trip whole units", () => {
  assert.equal(parseDuration("nope"), undefined);
  assert.equal(formatDuration(0), "0ms");
  assert.equal(formatDuration(1_500), "1500ms");
  assert.equal(formatDuration(120_000), "2m");
  for (const text of ["250ms", "5s", "2m", "3h"]) assert.equal(formatDuration(parseDuration(text)!), text);
});
