/**
 * A small protobuf writer for the messages meshloop builds itself: the OTLP/JSON mapping, responses and
 * google.rpc.Status. The hot path (splitting protobuf requests) does not use it; it copies bytes instead.
 *
 * Nested messages are written in place: `fork()` reserves one byte for the length, `join()` writes it and moves
 * the body when the length needs more bytes. Most leaves are short, and the large outer messages move once per level,
 * which keeps the output byte-identical to canonical encoders without a separate sizing pass.
 */
export class WireWriter {
  private buf: Buffer;
  pos = 0;

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** The bytes written so far, as a view of the writer's buffer (do not write again afterwards). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** An unsigned varint of up to 2^53 - 1 (lengths, counts, enums >= 0, field tags). */
  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      // Division, not >>>, so values above 2^32 keep their high bits.
      value = value > 0xffffffff ? Math.floor(value / 128) : value >>> 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** A 64-bit varint from its two's complement halves (int64 and uint64 fields, negative enums). */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    lo >>>= 0;
    hi >>>= 0;
    while (hi !== 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /** An int32 or int64 field from a safe integer: negative values take ten bytes, as protobuf specifies. */
  int64(value: number): void {
    if (value >= 0) {
      this.varint(value);
    } else {
      const { lo, hi } = splitInt64(value);
      this.varint64(lo, hi);
    }
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Bytes copied as they are, with no length prefix (pre-encoded fields). */
  raw(source: Uint8Array, start = 0, end = source.length): void {
    this.ensure(end - start);
    this.buf.set(source.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  string(value: string): void {
    const length = Buffer.byteLength(value, "utf8");
    this.varint(length);
    this.ensure(length);
    this.pos += this.buf.write(value, this.pos, length, "utf8");
  }

  /**
   * Reserves `length` bytes and returns their offset in `buffer`, for the caller to fill (hex ids decode straight
   * into them). Valid until the next write, which may move the buffer.
   */
  reserve(length: number): number {
    this.ensure(length);
    const at = this.pos;
    this.pos += length;
    return at;
  }

  get buffer(): Buffer {
    return this.buf;
  }

  /** Starts a length-delimited field's body (after its tag); pass the result to `join`. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  join(mark: number): void {
    const length = this.pos - mark - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.ensure(size - 1);
      this.buf.copyWithin(mark + size, mark + 1, this.pos);
      this.pos += size - 1;
    }
    let at = mark;
    let value = length;
    while (value > 0x7f) {
      this.buf[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[at] = value;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/** Bytes a varint of `value` (0 <= value < 2^53) takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 5;
  for (let v = value / 0x800000000; v >= 1; v /= 128) size++;
  return size;
}

/** The two's complement halves of a safe integer, as unsigned 32-bit numbers. */
export function splitInt64(value: number): { lo: number; hi: number } {
  const negative = value < 0;
  const abs = negative ? -value : value;
  let lo = abs >>> 0;
  let hi = Math.floor(abs / 4294967296) >>> 0;
  if (negative) {
    lo = ~lo >>> 0;
    hi = ~hi >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
  }
  return { lo, hi };
}
