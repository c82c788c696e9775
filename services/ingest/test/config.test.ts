import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "@meshloop/runtime";
import { ingestConfig } from "../src/index.ts";

test("defaults: OTLP's standard ports, 16 MiB bodies, 64 MiB in flight, a 10 s produce timeout", () => {
  const config = loadConfig(ingestConfig, { env: {} });
  assert.equal(config.MESHLOOP_INGEST_HTTP_PORT, 4318);
  assert.equal(config.MESHLOOP_INGEST_GRPC_PORT, 4317);
  assert.equal(config.MESHLOOP_INGEST_MAX_BODY_BYTES, 16 * 1024 * 1024);
  assert.equal(config.MESHLOOP_INGEST_MAX_INFLIGHT_BYTES, 64 * 1024 * 1024);
  assert.equal(config.MESHLOOP_INGEST_PRODUCE_TIMEOUT, 10_000);
  assert.equal(config.MESHLOOP_HTTP_PORT, 9101);
});

test("wrong values are refused with one line naming the variable and what is allowed", () => {
  assert.throws(() => loadConfig(ingestConfig, { env: { MESHLOOP_INGEST_HTTP_PORT: "70000" } }), {
    message: 'MESHLOOP_INGEST_HTTP_PORT: expected a port number between 0 and 65535, got "70000"',
  });
  assert.throws(() => loadConfig(ingestConfig, { env: { MESHLOOP_INGEST_PRODUCE_TIMEOUT: "forever" } }), /MESHLOOP_INGEST_PRODUCE_TIMEOUT: expected a duration/);
  assert.throws(() => loadConfig(ingestConfig, { env: { MESHLOOP_INGEST_MAX_BODY_BYTES: "12" } }), /MESHLOOP_INGEST_MAX_BODY_BYTES/);
});
