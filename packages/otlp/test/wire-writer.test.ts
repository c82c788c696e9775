import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { WireReader, WireWriter } from "../src/index.ts";
import { varintSize } from "../src/wire-writer.ts";
import { fields, varintBytes } from "./protobuf-fields.ts";

describe("WireWriter", () => {
  it("writes varints as protobuf does, and varintSize agrees", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), (value) => {
        const w = new WireWriter(1);
        w.varint(Number(value));
        assert.deepEqual(w.finish(), varintBytes(value));
        assert.equal(varintSize(Number(value)), varintBytes(value).length);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (value) => {
        const u = BigInt.asUintN(64, value);
        const w = new WireWriter(1);
        w.varint64(Number(u & 0xffffffffn), Number(u >> 32n));
        assert.deepEqual(w.finish(), varintBytes(value));
      }),
    );
  });

  it("writes negative int32 and int64 values in ten bytes", () => {
    const w = new WireWriter(4);
    w.int64(-1);
    w.int64(-(2 ** 40));
    w.int64(300);
    assert.deepEqual(w.finish(), Buffer.concat([varintBytes(-1n), varintBytes(-(2n ** 40n)), varintBytes(300n)]));
  });

  it("nests messages of any size, growing its buffer", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 300 }), { maxLength: 40 }), (texts) => {
        const w = new WireWriter(8);
        w.tag(1, 2);
        const outer = w.fork();
        for (const text of texts) {
          w.tag(2, 2);
          const inner = w.fork();
          w.tag(3, 2);
          w.string(text);
          w.tag(4, 1);
          w.fixed64(0xffffffff, 7);
          w.join(inner);
        }
        w.join(outer);
        const top = fields(w.finish());
        assert.equal(top.length, 1);
        const inners = fields(top[0]!.payload);
        assert.deepEqual(
          inners.map((f) => fields(f.payload)[0]!.payload.toString("utf8")),
          texts.map((t) => Buffer.from(t, "utf8").toString("utf8")),
        );
        for (const f of inners) assert.equal(fields(f.payload)[1]!.payload.readBigUInt64LE(), 7n * 2n ** 32n + 0xffffffffn);
      }),
      { numRuns: 50 },
    );
  });

  it("round-trips through WireReader", () => {
    const w = new WireWriter(2);
    w.tag(1, 5);
    w.fixed32(0xfeedface);
    w.tag(2, 1);
    w.double(-0.5);
    w.tag(3, 2);
    w.bytes(Uint8Array.of(1, 2, 3));
    // A pre-encoded field (tag 4, "yz") copied out of a larger buffer.
    w.raw(Buffer.from([0xff, 0x22, 0x02, 0x79, 0x7a, 0xff]), 1, 5);
    const r = new WireReader(w.finish());
    assert.equal(r.tag(), 0x0d);
    assert.equal(r.fixed32(), 0xfeedface);
    assert.equal(r.tag(), 0x11);
    assert.equal(r.double(), -0.5);
    assert.equal(r.tag(), 0x1a);
    assert.deepEqual([...r.buf.subarray(r.skipBytes(), r.pos)], [1, 2, 3]);
    assert.equal(r.tag(), 0x22);
    assert.equal(r.buf.toString("utf8", r.skipBytes(), r.pos), "yz");
    assert.equal(r.more(), false);
  });
});
