import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { dirname } from "node:path";
import { test } from "node:test";
import "../src/index.ts";

const require = createRequire(import.meta.url);
const encoderPath = require.resolve("kafkajs/src/protocol/encoder.js");

interface Encoder {
  writeInt8(v: number): Encoder;
  writeInt16(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeInt64(v: number): Encoder;
  writeString(v: string | null): Encoder;
  writeBytes(v: Buffer | string | null): Encoder;
  writeVarInt(v: number): Encoder;
  writeVarLong(v: number): Encoder;
  writeVarIntBytes(v: Buffer | null): Encoder;
  writeVarIntString(v: string | null): Encoder;
  writeBuffer(v: Buffer): Encoder;
  writeEncoder(v: Encoder): Encoder;
  writeArray(v: unknown[], type?: string): Encoder;
  size(): number;
  readonly buffer: Buffer;
}
type EncoderClass = new (size?: number) => Encoder;

/** kafkajs's own Encoder, compiled afresh from its file so that the installed changes do not apply to it. */
function pristineEncoder(): EncoderClass {
  const module = new Module(encoderPath) as Module & { _compile(source: string, file: string): void };
  module.filename = encoderPath;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(encoderPath));
  module._compile(readFileSync(encoderPath, "utf8"), encoderPath);
  return module.exports as EncoderClass;
}

const Chunked = require(encoderPath) as EncoderClass;
const Pristine = pristineEncoder();

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

type Op = (e: Encoder, make: () => Encoder, depth: number) => void;

function operations(next: () => number, depth = 0): Op[] {
  const count = 1 + Math.floor(next() * 12);
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    const pick = Math.floor(next() * (depth < 3 ? 11 : 9));
    const n = Math.floor(next() * 2 ** 31) * (next() < 0.5 ? -1 : 1);
    // Sizes straddle the 1 KiB reference threshold and the 512-byte first block.
    const bytes = Buffer.alloc(Math.floor(next() ** 3 * 5000), Math.floor(next() * 256));
    switch (pick) {
      case 0: ops.push((e) => e.writeInt8(n % 128)); break;
      case 1: ops.push((e) => e.writeInt32(n)); break;
      case 2: ops.push((e) => e.writeInt64(n)); break;
      case 3: ops.push((e) => e.writeString("x".repeat(bytes.length % 700))); break;
      case 4: ops.push((e) => e.writeBytes(bytes)); break;
      case 5: ops.push((e) => e.writeVarInt(n)); break;
      case 6: ops.push((e) => e.writeVarLong(n)); break;
      case 7: ops.push((e) => e.writeVarIntBytes(bytes)); break;
      case 8: ops.push((e) => e.writeBuffer(bytes)); break;
      case 9: {
        const inner = operations(next, depth + 1);
        ops.push((e, make, d) => e.writeEncoder(build(inner, make, d + 1)));
        break;
      }
      default: {
        const items = [operations(next, depth + 1), operations(next, depth + 1)];
        ops.push((e, make, d) => e.writeArray(items.map((inner) => build(inner, make, d + 1)), "object"));
      }
    }
  }
  return ops;
}

function build(ops: Op[], make: () => Encoder, depth = 0): Encoder {
  const e = make();
  for (const op of ops) op(e, make, depth);
  return e;
}

test("the chunked Encoder writes exactly the bytes kafkajs's own Encoder writes, nested encoders included", () => {
  for (let seed = 1; seed <= 400; seed++) {
    const ops = operations(random(seed));
    const expected = build(ops, () => new Pristine());
    const actual = build(ops, () => new Chunked());
    assert.equal(actual.size(), expected.size(), `size, seed ${seed}`);
    assert.ok(actual.buffer.equals(expected.buffer), `bytes, seed ${seed}`);
    // Asking twice gives the same bytes (the first request joins the chunks).
    assert.ok(actual.buffer.equals(expected.buffer), `bytes again, seed ${seed}`);
  }
});

test("an encoder written after its bytes were read keeps the earlier bytes and appends the new ones", () => {
  const big = Buffer.alloc(4096, 7);
  const chunked = new Chunked().writeInt32(1).writeBytes(big);
  const pristine = new Pristine().writeInt32(1).writeBytes(big);
  const first = chunked.buffer;
  assert.ok(first.equals(pristine.buffer));
  chunked.writeString("after").writeBytes(big);
  pristine.writeString("after").writeBytes(big);
  assert.ok(chunked.buffer.equals(pristine.buffer));
  assert.ok(first.equals(pristine.buffer.subarray(0, first.length)), "the bytes read first did not change");
});

test("a large message value is referenced, not copied, until the request is made contiguous", () => {
  const value = Buffer.alloc(64 * 1024, 1);
  const encoder = new Chunked().writeVarIntBytes(value);
  const chunks = (encoder as unknown as { chunks?: Buffer[] }).chunks ?? [];
  assert.ok(chunks.some((chunk) => chunk === value), "the value itself is one of the chunks");
  assert.equal(encoder.size(), value.length + 3);
});

test("writeEncoder still refuses what is not an encoder, as kafkajs does", () => {
  assert.throws(() => new Chunked().writeEncoder({} as Encoder), /instance of Encoder/);
  assert.throws(() => new Chunked().writeArray([{}], "object"), /instance of Encoder/);
});
