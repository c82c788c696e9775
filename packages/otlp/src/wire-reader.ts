import { ValidationError } from "@meshloop/errors";

/**
 * A minimal protobuf reader over one buffer. It decodes nothing on its own: callers walk tags, read the few scalars
 * they need and skip the rest, so reading a span costs a handful of byte comparisons, not an object per field.
 *
 * Every read is checked against `limit`, the end of the message being read (not just of the buffer), so a field
 * that claims more bytes than its parent holds is caught where it starts. Malformed input throws a ValidationError
 * naming the problem and its byte offset; nothing loops without consuming bytes, so every walk terminates.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

// Groups are a proto2 relic no OTLP producer emits; they are skipped, but not nested without end.
const MAX_GROUP_DEPTH = 32;

export class WireReader {
  readonly buf: Buffer;
  pos: number;
  /** End (exclusive) of the message currently being read. */
  limit: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.buf = asBuffer(bytes);
    this.pos = start;
    this.limit = end;
  }

  /** Whether the current message has more fields. */
  more(): boolean {
    return this.pos < this.limit;
  }

  /**
   * Reads a field tag (`fieldNumber << 3 | wireType`). One-byte tags (fields 1..15) take the fast path; wire types
   * 6 and 7 and field number 0 do not exist and are rejected here, so `skip` only ever sees real wire types.
   */
  tag(): number {
    const buf = this.buf;
    const pos = this.pos;
    let tag: number;
    if (pos < this.limit && buf[pos]! < 0x80) {
      tag = buf[pos]!;
      this.pos = pos + 1;
    } else {
      tag = this.varint64();
    }
    if (tag < 8 || tag > 0xffffffff || (tag & 7) > 5) {
      throw this.error(`invalid tag ${tag} (field ${Math.floor(tag / 8)}, wire type ${tag & 7})`, pos);
    }
    return tag;
  }

  /** A varint's low 32 bits, unsigned (uint32, enum and tag semantics); consumes up to 10 bytes. */
  varint32(): number {
    const buf = this.buf;
    const pos = this.pos;
    if (pos < this.limit && buf[pos]! < 0x80) {
      this.pos = pos + 1;
      return buf[pos]!;
    }
    // Longer varints: keep the low 32 bits exactly (varint64 would round beyond 2^53).
    const limit = this.limit;
    let at = pos;
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (at >= limit) throw this.error("truncated varint", pos);
      const b = buf[at++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = at;
        return result >>> 0;
      }
    }
    throw this.error("varint longer than 10 bytes", pos);
  }

  /** An int64 or uint64 varint as a number: exact up to 2^53, rounded beyond; negative for two's complement int64. */
  varint64(): number {
    const buf = this.buf;
    const limit = this.limit;
    const start = this.pos;
    let pos = start;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= limit) throw this.error("truncated varint", start);
      const b = buf[pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) {
        this.pos = pos;
        return int64FromParts(lo >>> 0, hi | 0);
      }
    }
    throw this.error("varint longer than 10 bytes", start);
  }

  /** The length of a length-delimited field, checked to fit in the current message. */
  length(): number {
    const buf = this.buf;
    const at = this.pos;
    let length: number;
    if (at < this.limit && buf[at]! < 0x80) {
      length = buf[at]!;
      this.pos = at + 1;
    } else {
      // The full 64-bit value, so that a huge length cannot wrap around to a small one.
      length = this.varint64();
    }
    if (length < 0 || length > this.limit - this.pos) {
      throw this.error(`length ${length} runs past the end of its message (${this.limit - this.pos} bytes left)`, at);
    }
    return length;
  }

  /** Skips a length-delimited field's payload and returns its start; the end is `this.pos` afterwards. */
  skipBytes(): number {
    const length = this.length();
    const start = this.pos;
    this.pos = start + length;
    return start;
  }

  fixed32(): number {
    const pos = this.pos;
    if (this.limit - pos < 4) throw this.error("truncated fixed32", pos);
    this.pos = pos + 4;
    return this.buf.readUInt32LE(pos);
  }

  /** Checks that the current message holds `bytes` more bytes, for callers reading fixed-width values in place. */
  need(bytes: number): void {
    if (this.limit - this.pos < bytes) throw this.error(`truncated field: ${bytes} bytes expected`, this.pos);
  }

  double(): number {
    this.need(8);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** sfixed64 as a number (exact up to 2^53). */
  sfixed64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    this.pos += 8;
    return int64FromParts(lo, hi);
  }

  /** fixed64 as a number of nanoseconds (exact up to 2^53, i.e. to within 256 ns for present-day timestamps). */
  fixed64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  /** Skips the payload of the field whose tag was just read. */
  skip(tag: number): void {
    switch (tag & 7) {
      case WIRE_VARINT:
        this.skipVarint();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LEN: {
        // Not `this.pos += this.length()`: that would add to the position before the length was read.
        const length = this.length();
        this.pos += length;
        return;
      }
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      case WIRE_START_GROUP:
        this.skipGroup(tag >>> 3);
        return;
      default:
        throw this.error(`unexpected end-group tag for field ${tag >>> 3}`, this.pos - 1);
    }
  }

  /** Enters a length-delimited sub-message: returns the outer limit to hand back to `leave`. */
  enter(length: number): number {
    const outer = this.limit;
    this.limit = this.pos + length;
    return outer;
  }

  leave(outer: number): void {
    this.pos = this.limit;
    this.limit = outer;
  }

  error(problem: string, offset: number): ValidationError {
    return new ValidationError(`malformed protobuf: ${problem} at byte ${offset}`, { context: { offset } });
  }

  private skipVarint(): void {
    const buf = this.buf;
    const end = Math.min(this.limit, this.pos + 10);
    for (let pos = this.pos; pos < end; pos++) {
      if (buf[pos]! < 0x80) {
        this.pos = pos + 1;
        return;
      }
    }
    throw this.error(end === this.limit ? "truncated varint" : "varint longer than 10 bytes", this.pos);
  }

  private skipGroup(field: number): void {
    const open = [field];
    while (open.length > 0) {
      const at = this.pos;
      const tag = this.tag();
      if ((tag & 7) === WIRE_END_GROUP) {
        if (tag >>> 3 !== open.pop()) throw this.error(`end-group tag for field ${tag >>> 3} does not match`, at);
      } else if ((tag & 7) === WIRE_START_GROUP) {
        if (open.length >= MAX_GROUP_DEPTH) throw this.error("groups nested too deeply", at);
        open.push(tag >>> 3);
      } else {
        this.skip(tag);
      }
    }
  }
}

/** Two's complement int64 from its halves, as the nearest number. */
function int64FromParts(lo: number, hi: number): number {
  return hi * 4294967296 + lo;
}

/** Whether `length` bytes at `start` are all zero (an unset trace or span id). */
export function allZero(buf: Uint8Array, start: number, length: number): boolean {
  let acc = 0;
  for (let i = start; i < start + length; i++) acc |= buf[i]!;
  return acc === 0;
}

/** A view of a Uint8Array as a Buffer without copying, to use Buffer's native string and number methods. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
