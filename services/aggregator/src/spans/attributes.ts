import { WireReader } from "@meshloop/otlp";

/**
 * One pass over a span's body for the dozen attributes the aggregator reads (and `trace_state`), instead of one
 * scan per attribute: keys are matched by length, then bytes, against a fixed table, without building strings; only
 * the values asked for are decoded afterwards.
 */

/** The attributes read, by slot. */
export const ATTR = {
  httpRoute: 0,
  rpcService: 1,
  rpcMethod: 2,
  httpResponseStatusCode: 3,
  httpStatusCode: 4,
  rpcGrpcStatusCode: 5,
  peerService: 6,
  serverAddress: 7,
  netPeerName: 8,
  dbSystem: 9,
  dbSystemName: 10,
  messagingSystem: 11,
  samplingAdjustedCount: 12,
  samplingProbability: 13,
  samplerType: 14,
  samplerParam: 15,
} as const;

const KEYS: readonly string[] = [
  "http.route",
  "rpc.service",
  "rpc.method",
  "http.response.status_code",
  "http.status_code",
  "rpc.grpc.status_code",
  "peer.service",
  "server.address",
  "net.peer.name",
  "db.system",
  "db.system.name",
  "messaging.system",
  "sampling.adjusted_count",
  "sampling.probability",
  "sampler.type",
  "sampler.param",
];
const SLOTS = KEYS.length;

// Candidate slots by key length; every key's bytes for the comparison.
const KEY_BYTES = KEYS.map((k) => Buffer.from(k, "utf8"));
const BY_LENGTH: number[][] = [];
KEY_BYTES.forEach((bytes, slot) => (BY_LENGTH[bytes.length] ??= []).push(slot));

const NONE = 0;
const STRING = 1;
const NUMBER = 2;
const BOOL = 3;

const TAG_TRACE_STATE = 0x1a;
const TAG_ATTRIBUTE = 0x4a;

export class SpanAttributes {
  private buf: Buffer = Buffer.alloc(0);
  private reader = new WireReader(this.buf);
  private readonly types = new Uint8Array(SLOTS);
  private readonly numbers = new Float64Array(SLOTS);
  private readonly starts = new Int32Array(SLOTS);
  private readonly ends = new Int32Array(SLOTS);
  traceStateStart = -1;
  traceStateEnd = -1;

  /** Reads the span body `buf[start..end)`; malformed framing throws the WireReader's ValidationError. */
  scan(buf: Buffer, start: number, end: number): void {
    if (buf !== this.buf) {
      this.buf = buf;
      this.reader = new WireReader(buf);
    }
    this.types.fill(NONE);
    this.traceStateStart = this.traceStateEnd = -1;
    const r = this.reader;
    r.pos = start;
    r.limit = end;
    while (r.more()) {
      const tag = r.tag();
      if (tag === TAG_ATTRIBUTE) {
        const outer = r.enter(r.length());
        this.readKeyValue(r);
        r.leave(outer);
      } else if (tag === TAG_TRACE_STATE) {
        this.traceStateStart = r.skipBytes();
        this.traceStateEnd = r.pos;
      } else {
        r.skip(tag);
      }
    }
  }

  has(slot: number): boolean {
    return this.types[slot] !== NONE;
  }

  /** A string attribute's value; numbers and booleans are not converted (undefined). */
  string(slot: number): string | undefined {
    return this.types[slot] === STRING ? this.buf.toString("utf8", this.starts[slot], this.ends[slot]) : undefined;
  }

  /** A numeric attribute's value, also from a string holding a number (some instrumentations send codes as text). */
  number(slot: number): number | undefined {
    const type = this.types[slot];
    if (type === NUMBER) return this.numbers[slot];
    if (type === STRING) {
      const text = this.buf.toString("latin1", this.starts[slot], this.ends[slot]).trim();
      const n = text === "" ? Number.NaN : Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    return undefined;
  }

  /** Any scalar value, for attributes whose type varies between producers. */
  scalar(slot: number): number | string | boolean | undefined {
    const type = this.types[slot];
    if (type === NUMBER) return this.numbers[slot];
    if (type === BOOL) return this.numbers[slot] !== 0;
    return this.string(slot);
  }

  traceState(): string {
    return this.traceStateStart < 0 ? "" : this.buf.toString("latin1", this.traceStateStart, this.traceStateEnd);
  }

  private readKeyValue(r: WireReader): void {
    // The fast path: what every encoder writes, key then value, both lengths in one byte, nothing else.
    const buf = r.buf;
    const pos = r.pos;
    const limit = r.limit;
    if (buf[pos] === 0x0a) {
      const keyLength = buf[pos + 1] ?? 0x80;
      const keyEnd = pos + 2 + keyLength;
      const valueLength = keyEnd + 1 < limit && buf[keyEnd] === 0x12 ? buf[keyEnd + 1]! : 0x80;
      if (keyLength < 0x80 && valueLength < 0x80 && keyEnd + 2 + valueLength === limit) {
        const slot = matchKey(buf, pos + 2, keyEnd);
        if (slot >= 0) {
          this.types[slot] = NONE;
          r.pos = keyEnd + 2;
          this.readValue(r, slot);
        }
        return;
      }
    }
    let slot = -1;
    let valueStart = -1;
    let valueEnd = -1;
    while (r.more()) {
      const tag = r.tag();
      if (tag === 0x0a) {
        const start = r.skipBytes();
        slot = matchKey(r.buf, start, r.pos);
      } else if (tag === 0x12) {
        valueStart = r.skipBytes();
        valueEnd = r.pos;
      } else {
        r.skip(tag);
      }
    }
    if (slot < 0 || valueStart < 0) return;
    // Duplicate keys are invalid OTLP; the last one wins, as in a map built from the list.
    this.types[slot] = NONE;
    r.pos = valueStart;
    r.limit = valueEnd;
    this.readValue(r, slot);
    r.limit = limit;
  }

  /** An AnyValue: string, bool, int or double; arrays, kvlists and bytes leave the slot empty. */
  private readValue(r: WireReader, slot: number): void {
    while (r.more()) {
      const tag = r.tag();
      switch (tag) {
        case 0x0a:
          this.starts[slot] = r.skipBytes();
          this.ends[slot] = r.pos;
          this.types[slot] = STRING;
          break;
        case 0x10:
          this.numbers[slot] = r.varint32() !== 0 ? 1 : 0;
          this.types[slot] = BOOL;
          break;
        case 0x18:
          this.numbers[slot] = r.varint64();
          this.types[slot] = NUMBER;
          break;
        case 0x21:
          this.numbers[slot] = r.double();
          this.types[slot] = NUMBER;
          break;
        default:
          r.skip(tag);
          this.types[slot] = NONE;
      }
    }
  }
}

function matchKey(buf: Buffer, start: number, end: number): number {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  for (const slot of candidates) {
    const key = KEY_BYTES[slot]!;
    let i = 0;
    while (i < key.length && buf[start + i] === key[i]) i++;
    if (i === key.length) return slot;
  }
  return -1;
}
