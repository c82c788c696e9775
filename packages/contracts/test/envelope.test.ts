import assert from "node:assert/strict";
import { test } from "node:test";
import { ValidationError } from "@meshloop/errors";
import { decodeEnvelope, encodeEnvelope } from "../src/index.ts";
import { partial } from "./fixtures.ts";

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ValidationError && message.test(e.message) && !e.retriable);
}

test("a partial round-trips with the envelope id taken from the data", () => {
  const value = encodeEnvelope("meshloop.partial", partial());
  const envelope = decodeEnvelope(value, "meshloop.partial");
  assert.equal(envelope.type, "meshloop.partial");
  assert.equal(envelope.version, 1);
  assert.equal(envelope.id, "partial:checkout:60000:10000:3");
  assert.deepEqual(envelope.data, partial());
});

test("a union decodes narrowable by type", () => {
  const envelope = decodeEnvelope(encodeEnvelope("meshloop.partial", partial()).toString("utf8"));
  assert.ok(envelope.type === "meshloop.partial" && envelope.data.sourcePartitions > 0);
});

test("invalid data is refused before it is sent", () => {
  rejects(
    () => encodeEnvelope("meshloop.partial", { ...partial(), revision: -1 }),
    /^invalid meshloop\.partial data: revision: /,
  );
});

test("decoding rejects non-JSON, unknown types, unexpected types, other versions and mismatched ids", () => {
  const good = JSON.parse(encodeEnvelope("meshloop.partial", partial()).toString("utf8")) as Record<string, unknown>;
  const encode = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });
  rejects(() => decodeEnvelope("{not json"), /^envelope is not JSON/);
  rejects(() => decodeEnvelope(encode({ type: "meshloop.nope" })), /unknown envelope type "meshloop\.nope"/);
  rejects(() => decodeEnvelope(encode({ type: "toString" })), /unknown envelope type "toString"/);
  rejects(
    () => decodeEnvelope(encode({}), ["meshloop.aggregate", "meshloop.progress"]),
    /expected envelope type meshloop\.aggregate or meshloop\.progress, got meshloop\.partial/,
  );
  const decode = (patch: Record<string, unknown>) => () => decodeEnvelope(encode(patch));
  rejects(decode({ version: 2 }), /unsupported meshloop\.partial envelope version 2 \(this build reads 1\)/);
  rejects(decode({ id: "other" }), /envelope id other is not its data's id partial:checkout:60000:10000:3/);
  rejects(decode({ data: { ...partial(), windowMs: 0 } }), /^invalid meshloop\.partial envelope: data\.windowMs/);
});

test("a gauge batch round-trips; a negative value is refused", () => {
  const batch = {
    id: "gauges:checkout:1700000000000:1",
    service: "checkout",
    receivedAtMs: 1_700_000_000_000,
    samples: [{
      instance: "checkout-7d9f", namespace: "shop", version: "v2", region: null, zone: "eu-1a", cluster: null,
      metric: "container.cpu.utilization", kind: "cpuUtilization" as const, value: 0.42, timeUnixMs: 1_699_999_999_000,
    }],
  };
  const envelope = decodeEnvelope(encodeEnvelope("meshloop.gauges", batch), "meshloop.gauges");
  assert.equal(envelope.id, batch.id);
  assert.deepEqual(envelope.data, batch);
  rejects(
    () => encodeEnvelope("meshloop.gauges", { ...batch, samples: [{ ...batch.samples[0]!, value: -1 }] }),
    /^invalid meshloop\.gauges data: samples\[0\]\.value/,
  );
});
