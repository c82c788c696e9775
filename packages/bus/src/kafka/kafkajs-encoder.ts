/**
 * A chunked write path for kafkajs's protocol Encoder (installed by kafkajs-hot-path.ts).
 *
 * kafkajs builds a produce request as nested encoders: record → record batch body → batch → partition → topic →
 * request → framed request, and each level copies the whole level below into its own buffer, which it grows by
 * doubling (another copy each time). A 250 KiB OTLP request was copied about ten times on its way to the socket:
 * the ingest's largest CPU cost after the decoding itself, plus the garbage those buffers leave.
 *
 * Here an encoder keeps a list of chunks: small writes still go into its own buffer, while a large buffer or a
 * nested encoder is appended by reference. Bytes are copied only when someone asks for `buffer` (the CRC of a
 * batch, the batch's length prefix, the socket write): three copies instead of ten. Referencing is safe because
 * kafkajs never writes into a region of an encoder's buffer it has already written (no seek), so a referenced
 * slice never changes, and the caller's message values are not reused before the send they belong to resolves.
 *
 * `offset` now counts bytes in the current buffer only; nothing outside encoder.js reads it (checked against
 * kafkajs 2.2.4), and `size()` keeps its meaning (all bytes written).
 */

/** Below this, copying is cheaper than keeping another chunk. */
const REFERENCE_MIN_BYTES = 1024;
/** A fresh buffer for small writes never starts smaller than this. */
const MIN_BLOCK_BYTES = 512;

export interface ChunkedEncoder {
  buf: Buffer;
  offset: number;
  /** Start of the bytes in `buf` not yet moved to `chunks`. */
  start?: number;
  chunks?: Buffer[];
  chunkBytes?: number;
  buffer: Buffer;
  size(): number;
}

interface EncoderClass {
  prototype: object;
  nextPowerOfTwo(value: number): number;
}

function flushSegment(e: ChunkedEncoder): Buffer[] {
  const start = e.start ?? 0;
  const chunks = (e.chunks ??= []);
  if (e.offset > start) {
    chunks.push(e.buf.subarray(start, e.offset));
    e.chunkBytes = (e.chunkBytes ?? 0) + (e.offset - start);
    e.start = e.offset;
  }
  return chunks;
}

function size(e: ChunkedEncoder): number {
  return (e.chunkBytes ?? 0) + e.offset - (e.start ?? 0);
}

function contiguous(e: ChunkedEncoder): Buffer {
  const start = e.start ?? 0;
  if (e.chunks === undefined || e.chunks.length === 0) return e.buf.subarray(start, e.offset);
  const total = size(e);
  const joined = Buffer.concat(flushSegment(e), total);
  // Keep the joined bytes as this encoder's only content, so asking again (kafkajs reads `buffer` twice before a
  // socket write) copies nothing.
  e.buf = joined;
  e.start = 0;
  e.offset = total;
  e.chunks = undefined;
  e.chunkBytes = 0;
  return joined;
}

function appendReference(e: ChunkedEncoder, bytes: Buffer): void {
  flushSegment(e).push(bytes);
  e.chunkBytes = (e.chunkBytes ?? 0) + bytes.length;
}

function isEncoder(value: unknown): value is ChunkedEncoder {
  return value != null && Buffer.isBuffer((value as { buf?: unknown }).buf);
}

export function installChunkedEncoder(Encoder: EncoderClass): void {
  const proto = Encoder.prototype as Record<string, unknown>;

  proto.ensureAvailable = function ensureAvailable(this: ChunkedEncoder, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    // The bytes written so far stay where they are, as a chunk; the next writes go into a new buffer, so nothing
    // is copied to grow. Callers rely on `length` contiguous bytes, which the new buffer gives.
    flushSegment(this);
    this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(Math.max(length, MIN_BLOCK_BYTES)));
    this.offset = 0;
    this.start = 0;
  };

  proto.writeBufferInternal = function writeBufferInternal(this: ChunkedEncoder, bytes: Buffer): void {
    if (bytes.length >= REFERENCE_MIN_BYTES) {
      appendReference(this, bytes);
      return;
    }
    (proto.ensureAvailable as (this: ChunkedEncoder, n: number) => void).call(this, bytes.length);
    bytes.copy(this.buf, this.offset, 0);
    this.offset += bytes.length;
  };

  const writeEncoderInto = function (this: ChunkedEncoder, value: ChunkedEncoder): void {
    const bytes = size(value);
    if (bytes < REFERENCE_MIN_BYTES) {
      (proto.writeBufferInternal as (this: ChunkedEncoder, b: Buffer) => void).call(this, contiguous(value));
      return;
    }
    const own = flushSegment(this);
    if (value.chunks !== undefined) for (const chunk of value.chunks) own.push(chunk);
    const tailStart = value.start ?? 0;
    if (value.offset > tailStart) own.push(value.buf.subarray(tailStart, value.offset));
    this.chunkBytes = (this.chunkBytes ?? 0) + bytes;
  };

  proto.writeEncoder = function writeEncoder(this: ChunkedEncoder, value: unknown): ChunkedEncoder {
    if (!isEncoder(value)) throw new Error("value should be an instance of Encoder");
    writeEncoderInto.call(this, value);
    return this;
  };

  proto.writeEncoderArray = function writeEncoderArray(this: ChunkedEncoder, values: unknown): ChunkedEncoder {
    if (!Array.isArray(values) || !values.every(isEncoder)) {
      throw new Error("all values should be an instance of Encoder[]");
    }
    for (const value of values) writeEncoderInto.call(this, value);
    return this;
  };

  // kafkajs reserves room for the length and the bytes together before writing a Buffer; a large Buffer is now
  // referenced, so reserving room for it would only allocate memory that stays unused.
  const writeBytes = proto.writeBytes as (this: ChunkedEncoder, value: unknown) => ChunkedEncoder;
  proto.writeBytes = function (this: ChunkedEncoder, value: unknown): ChunkedEncoder {
    if (!Buffer.isBuffer(value) || value.length < REFERENCE_MIN_BYTES) return writeBytes.call(this, value);
    (proto.writeInt32 as (this: ChunkedEncoder, v: number) => void).call(this, value.length);
    appendReference(this, value);
    return this;
  };

  // One Buffer allocated per varint (several per record) in kafkajs; written in place here, same bytes.
  proto.writeUVarInt = function writeUVarInt(this: ChunkedEncoder, value: number): ChunkedEncoder {
    (proto.ensureAvailable as (this: ChunkedEncoder, n: number) => void).call(this, 5);
    let rest = value;
    while ((rest & 0xffffff80) !== 0) {
      this.buf[this.offset++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buf[this.offset++] = rest & 0x7f;
    return this;
  };

  proto.size = function (this: ChunkedEncoder): number {
    return size(this);
  };

  Object.defineProperty(proto, "buffer", {
    configurable: true,
    get(this: ChunkedEncoder): Buffer {
      return contiguous(this);
    },
  });
}
