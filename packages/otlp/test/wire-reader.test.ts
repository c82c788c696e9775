import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "@meshloop/errors";
import fc from "fast-check";
import { WireReader } from "../src/index.ts";
import { ld, varintBytes } from "./protobuf-fields.ts";

function reader(...parts: (Buffer | number[])[]): WireReader {
  return new WireReader(Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)))));
}

function throwsAt(action: () => unknown, problem: RegExp, offset: number): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.match(error.message, problem);
    assert.equal(error.context.offset, offset);
    assert.ok(error.message.endsWith(` at byte ${offset}`));
    return true;
  });
}

describe("WireReader", () => {
  it("reads varints of every length, as uint32 and as int64", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (value) => {
        const bytes = varintBytes(value);
        const r = reader(bytes);
        assert.equal(r.varint32(), Number(BigInt.asUintN(32, value)));
        assert.equal(r.pos, bytes.length);
        assert.equal(reader(bytes).varint64(), Number(BigInt.asIntN(64, value)));
      }),
    );
  });

  it("reads fixed-width values", () => {
    const b = Buffer.alloc(28);
    b.writeBigUInt64LE(1_700_000_000_123_456_789n, 0);
    b.writeBigInt64LE(-42n, 8);
    b.writeDoubleLE(0.75, 16);
    b.writeUInt32LE(0xdeadbeef, 24);
    const r = reader(b);
    assert.equal(r.fixed64(), Number(1_700_000_000_123_456_789n));
    assert.equal(r.sfixed64(), -42);
    assert.equal(r.double(), 0.75);
    assert.equal(r.fixed32(), 0xdeadbeef);
    assert.equal(r.more(), false);
  });

  it("skips every wire type, groups included, and keeps to the current message", () => {
    const unknowns = Buffer.concat([
      varintBytes((1 << 3) | 0), varintBytes(2n ** 63n),
      varintBytes((2 << 3) | 1), Buffer.alloc(8),
      ld(3, "text"),
      varintBytes((4 << 3) | 5), Buffer.alloc(4),
      // A group with a nested group and a scalar inside.
      varintBytes((5 << 3) | 3), varintBytes((6 << 3) | 3), varintBytes(7 << 3), [1], varintBytes((6 << 3) | 4), varintBytes((5 << 3) | 4),
    ].map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
    const r = reader(ld(1, unknowns), ld(2, "after"));
    assert.equal(r.tag(), 0x0a);
    const outer = r.enter(r.length());
    let skipped = 0;
    while (r.more()) {
      r.skip(r.tag());
      skipped++;
    }
    assert.equal(skipped, 5);
    r.leave(outer);
    assert.equal(r.tag(), 0x12);
    assert.equal(r.buf.toString("utf8", r.skipBytes(), r.pos), "after");
  });

  it("names the problem and its byte offset in malformed input", () => {
    throwsAt(() => { const r = reader([0x08, 0x80]); r.skip(r.tag()); }, /truncated varint/, 1);
    throwsAt(() => { const r = reader([0x08, 0x80, 0x80]); r.tag(); r.varint32(); }, /truncated varint/, 1);
    throwsAt(() => reader(Array(11).fill(0xff) as number[]).varint64(), /varint longer than 10 bytes/, 0);
    throwsAt(() => reader([0x0e]).tag(), /invalid tag 14 \(field 1, wire type 6\)/, 0);
    throwsAt(() => reader([0x07]).tag(), /wire type 7/, 0);
    throwsAt(() => reader([0x02]).tag(), /invalid tag 2 \(field 0/, 0);
    throwsAt(() => { const r = reader([0x0a, 0x05, 1, 2]); r.tag(); r.length(); }, /length 5 runs past the end of its message \(2 bytes left\)/, 1);
    // A length whose 64-bit value wraps to something small in 32 bits is still refused.
    throwsAt(() => { const r = reader([0x0a], varintBytes(2n ** 32n + 1n), [0]); r.tag(); r.length(); }, /length/, 1);
    throwsAt(() => { const r = reader([0x09, 1, 2, 3]); r.skip(r.tag()); }, /truncated field: 8 bytes expected/, 1);
    throwsAt(() => { const r = reader([0x0c]); r.skip(r.tag()); }, /unexpected end-group tag for field 1/, 0);
    throwsAt(() => { const r = reader([0x0b, 0x14]); r.skip(r.tag()); }, /end-group tag for field 2 does not match/, 1);
    throwsAt(() => { const r = reader([0x0b]); r.skip(r.tag()); }, /truncated varint/, 1);
    throwsAt(() => { const r = reader(Array(40).fill(0x0b) as number[]); r.skip(r.tag()); }, /groups nested too deeply/, 32);
  });

  it("reads a field that ends exactly at the end of its message, and not beyond", () => {
    const r = reader(ld(1, ld(2, "ab")), [0x10, 0x01]);
    r.tag();
    const outer = r.enter(r.length());
    assert.equal(r.tag(), 0x12);
    assert.equal(r.length(), 2);
    r.pos += 2;
    assert.equal(r.more(), false);
    r.leave(outer);
    assert.equal(r.tag(), 0x10);
    assert.equal(r.varint32(), 1);
    // Inside a message, a field may not reach into its parent's next field.
    const nested = reader(ld(1, Buffer.from([0x12, 0x04, 0x61])), [0x61, 0x61, 0x61]);
    nested.tag();
    nested.enter(nested.length());
    nested.tag();
    throwsAt(() => nested.length(), /length 4 runs past the end of its message \(1 bytes left\)/, 3);
  });
});
