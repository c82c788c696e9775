import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { test } from "node:test";
import "../src/index.ts";

const require = createRequire(import.meta.url);
const kafkajsDir = require.resolve("kafkajs/src/protocol/recordBatch/crc32C/index.js").replace(/index\.js$/, "");
// kafkajs's own table-driven implementation, loaded from its file directly (not through the replaced index).
const reference = require(`${kafkajsDir}crc32C.js`) as (buffer: Buffer) => number;
const installed = require(`${kafkajsDir}index.js`) as (buffer: Buffer) => number;

test("the CRC32C kafkajs now loads is the native one and agrees with kafkajs's own on every input", () => {
  assert.notEqual(installed.toString(), reference.toString());
  assert.equal(installed(Buffer.from("123456789")), 0xe3069283, "the CRC-32C check value");
  for (const size of [0, 1, 7, 64, 1000, 65_537]) {
    for (let i = 0; i < 5; i++) {
      const data = randomBytes(size);
      assert.equal(installed(data), reference(data) >>> 0, `size ${size}`);
    }
  }
});

test("kafkajs's Encoder still produces exactly what it wrote after growing without zero-fill", () => {
  const Encoder = require("kafkajs/src/protocol/encoder.js") as new (size?: number) => {
    writeInt32(v: number): unknown; writeBytes(b: Buffer): unknown; writeString(s: string): unknown; buffer: Buffer;
  };
  const encoder = new Encoder(4);
  const payload = randomBytes(10_000);
  encoder.writeInt32(7);
  encoder.writeString("meshloop");
  encoder.writeBytes(payload);
  const out = encoder.buffer;
  assert.equal(out.readInt32BE(0), 7);
  assert.equal(out.readInt16BE(4), 8);
  assert.equal(out.subarray(6, 14).toString(), "meshloop");
  assert.equal(out.readInt32BE(14), payload.length);
  assert.deepEqual(out.subarray(18), payload);
});
