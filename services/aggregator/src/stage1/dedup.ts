/**
 * Removes duplicate spans (same trace id and span id), which at-least-once delivery produces: an exporter that
 * retries a request the ingest had stored, the ingest retrying a send. Duplicates land in the same partition (the
 * key is the trace id) within minutes, so a sliding horizon of record time is enough.
 *
 * Memory is bounded: spans are remembered as 64-bit fingerprints of (trace id, span id) in open-addressing tables,
 * one per generation (a slice of the horizon); the oldest generation is dropped whole when a new one starts, and a
 * generation that fills up starts the next one early (counted: the horizon is then shorter than configured).
 * A fingerprint collision would drop a distinct span as a duplicate: with 2^21 remembered spans the chance that any
 * given new span collides is about 2^21 / 2^64 = 1e-13.
 */

export interface DedupOptions {
  /** How long (in record time) a span is remembered. */
  readonly horizonMs: number;
  /** How many spans are remembered at most, over all generations. */
  readonly maxEntries: number;
  readonly generations: number;
}

export interface DedupSnapshot {
  /** `fingerprints` is base64; empty in a snapshot taken without data (see `parts()`). */
  readonly generations: Array<{ startMs: number; fingerprints: string }>;
  readonly earlyRotations: number;
}

/**
 * One generation's fingerprints, for checkpoints that store generations apart from the rest of the state. A
 * generation only ever gains fingerprints, so its serial and size name its content within this filter's lifetime:
 * a checkpoint stores an unchanged generation once instead of on every save.
 */
export interface DedupPart {
  readonly id: string;
  encode(): string;
}

const MAX_LOAD = 0.7;
const INITIAL_SLOTS = 1024;

class Generation {
  readonly startMs: number;
  /** Creation order within one filter instance (two generations may share a start time after early rotations). */
  readonly serial: number;
  /** Pairs of words (hi, lo) per slot; (0, 0) is empty. */
  table: Uint32Array;
  mask: number;
  size = 0;

  constructor(startMs: number, slots: number, serial: number) {
    this.startMs = startMs;
    this.serial = serial;
    this.table = new Uint32Array(slots * 2);
    this.mask = slots - 1;
  }

  get slots(): number {
    return this.mask + 1;
  }

  has(hi: number, lo: number): boolean {
    const t = this.table;
    for (let slot = lo & this.mask; ; slot = (slot + 1) & this.mask) {
      const h = t[slot * 2]!;
      const l = t[slot * 2 + 1]!;
      if (h === 0 && l === 0) return false;
      if (h === hi && l === lo) return true;
    }
  }

  /** Inserts a fingerprint known to be absent. */
  insert(hi: number, lo: number): void {
    const t = this.table;
    let slot = lo & this.mask;
    while (t[slot * 2] !== 0 || t[slot * 2 + 1] !== 0) slot = (slot + 1) & this.mask;
    t[slot * 2] = hi;
    t[slot * 2 + 1] = lo;
    this.size++;
  }

  grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    this.mask = this.slots * 2 - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i]!, old[i + 1]!);
    }
  }

  fingerprints(): Uint32Array {
    const out = new Uint32Array(this.size * 2);
    let n = 0;
    for (let i = 0; i < this.table.length; i += 2) {
      if (this.table[i] !== 0 || this.table[i + 1] !== 0) {
        out[n++] = this.table[i]!;
        out[n++] = this.table[i + 1]!;
      }
    }
    return out;
  }
}

export class DedupFilter {
  readonly options: DedupOptions;
  private readonly generations: Generation[] = [];
  private readonly perGeneration: number;
  private readonly maxSlots: number;
  private serials = 0;
  /** Generations started because the previous one was full rather than because its time was up. */
  earlyRotations = 0;

  constructor(options: DedupOptions) {
    this.options = options;
    this.perGeneration = Math.max(1, Math.ceil(options.maxEntries / options.generations));
    let slots = INITIAL_SLOTS;
    while (slots * MAX_LOAD < this.perGeneration) slots *= 2;
    this.maxSlots = slots;
  }

  /** Remembered fingerprints (what the filter costs: about 8 / 0.7 bytes each at most). */
  get size(): number {
    return this.generations.reduce((n, g) => n + g.size, 0);
  }

  /**
   * Whether the span whose 16-byte trace id and 8-byte span id start at those offsets was seen before; remembers it
   * if not. `recordTimeMs` moves the generations along.
   */
  seen(buf: Buffer, traceStart: number, spanStart: number, recordTimeMs: number): boolean {
    const t0 = buf.readUInt32LE(traceStart);
    const t1 = buf.readUInt32LE(traceStart + 4);
    const t2 = buf.readUInt32LE(traceStart + 8);
    const t3 = buf.readUInt32LE(traceStart + 12);
    const s0 = buf.readUInt32LE(spanStart);
    const s1 = buf.readUInt32LE(spanStart + 4);
    const hi = fmix(t0 ^ fmix(t1 ^ fmix(t2 ^ fmix(t3 ^ fmix(s0 ^ fmix(s1 ^ 0x9e3779b9))))));
    let lo = fmix(s1 ^ fmix(s0 ^ fmix(t3 ^ fmix(t2 ^ fmix(t1 ^ fmix(t0 ^ 0x7f4a7c15))))));
    if (hi === 0 && lo === 0) lo = 1;
    return this.seenFingerprint(hi, lo, recordTimeMs);
  }

  seenFingerprint(hi: number, lo: number, recordTimeMs: number): boolean {
    for (let i = this.generations.length - 1; i >= 0; i--) {
      if (this.generations[i]!.has(hi, lo)) return true;
    }
    this.current(recordTimeMs).insert(hi, lo);
    return false;
  }

  private current(recordTimeMs: number): Generation {
    const span = this.options.horizonMs / this.options.generations;
    let g = this.generations.at(-1);
    if (g === undefined || recordTimeMs >= g.startMs + span) {
      g = this.rotate(recordTimeMs);
    } else if (g.size + 1 > g.slots * MAX_LOAD) {
      if (g.slots < this.maxSlots) g.grow();
      else {
        this.earlyRotations++;
        g = this.rotate(Math.max(recordTimeMs, g.startMs));
      }
    } else if (g.size >= this.perGeneration) {
      this.earlyRotations++;
      g = this.rotate(Math.max(recordTimeMs, g.startMs));
    }
    return g;
  }

  private rotate(startMs: number): Generation {
    const g = new Generation(startMs, INITIAL_SLOTS, this.serials++);
    this.generations.push(g);
    // Beyond the horizon, or beyond the count that bounds memory.
    while (
      this.generations.length > this.options.generations ||
      (this.generations.length > 1 && this.generations[0]!.startMs <= startMs - this.options.horizonMs)
    ) {
      this.generations.shift();
    }
    return g;
  }

  /** With `data: false` the fingerprints are left out, for a checkpoint that stores `parts()` apart. */
  snapshot({ data = true }: { data?: boolean } = {}): DedupSnapshot {
    return {
      generations: this.generations.map((g) => ({ startMs: g.startMs, fingerprints: data ? encodeGeneration(g) : "" })),
      earlyRotations: this.earlyRotations,
    };
  }

  /** The generations' fingerprints, in the order of `snapshot().generations`. */
  parts(): DedupPart[] {
    return this.generations.map((g) => ({ id: `dedup.${g.serial}.${g.size}`, encode: () => encodeGeneration(g) }));
  }

  static restore(options: DedupOptions, snapshot: DedupSnapshot): DedupFilter {
    const filter = new DedupFilter(options);
    for (const { startMs, fingerprints } of snapshot.generations) {
      // A copy: base64 decoding may hand out a pooled, unaligned view.
      const words = new Uint32Array(new Uint8Array(Buffer.from(fingerprints, "base64")).buffer);
      const g = new Generation(startMs, INITIAL_SLOTS, filter.serials++);
      filter.generations.push(g);
      for (let i = 0; i < words.length; i += 2) {
        if (g.size + 1 > g.slots * MAX_LOAD) g.grow();
        if (!g.has(words[i]!, words[i + 1]!)) g.insert(words[i]!, words[i + 1]!);
      }
    }
    filter.earlyRotations = snapshot.earlyRotations;
    return filter;
  }
}

function encodeGeneration(g: Generation): string {
  return Buffer.from(g.fingerprints().buffer).toString("base64");
}

/** MurmurHash3's 32-bit finaliser. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
