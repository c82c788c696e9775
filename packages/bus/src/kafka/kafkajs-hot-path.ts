import { createRequire, Module } from "node:module";
import { crc32c } from "@node-rs/crc32";
import { installChunkedEncoder } from "./kafkajs-encoder.ts";

/**
 * Two changes to kafkajs's produce path, each measured with services/ingest/bench (docs/benchmarks.md) and checked
 * by test/kafkajs-hot-path.test.ts. This module must be loaded before kafkajs: kafka-bus.ts and index.ts import it
 * first.
 *
 * 1. kafkajs checksums every record batch with a table-driven CRC32C in JavaScript, one byte per step: a fifth of
 *    the ingest's CPU under load. A hardware-accelerated CRC32C (SSE4.2, @node-rs/crc32's prebuilt binary) is put
 *    into the CommonJS module cache under that module's path, so kafkajs loads it instead.
 * 2. kafkajs's Encoder copies every nested level of a produce request into the next (about ten copies of each
 *    byte, and the garbage of each); kafkajs-encoder.ts makes it keep large parts by reference and copy only when
 *    a contiguous buffer is asked for.
 */
const require = createRequire(import.meta.url);
const crc32cPath = require.resolve("kafkajs/src/protocol/recordBatch/crc32C/index.js");

if (require.cache[crc32cPath] === undefined) {
  const replacement = new Module(crc32cPath);
  replacement.filename = crc32cPath;
  replacement.loaded = true;
  replacement.exports = (buffer: Buffer): number => crc32c(buffer) >>> 0;
  require.cache[crc32cPath] = replacement;
}

const Encoder = require("kafkajs/src/protocol/encoder.js") as Parameters<typeof installChunkedEncoder>[0];
installChunkedEncoder(Encoder);
