import { MeshloopError } from "@meshloop/errors";
import type { WireReader } from "./wire-reader.ts";
import { varintSize } from "./wire-writer.ts";

/**
 * Optional attribute filtering for the split: removing bulky span and span-event attributes (headers, bodies,
 * SQL text) before the spans reach Kafka. It works on the wire like the rest of the split: a span is scanned for the
 * keys of its attributes and of its events' attributes, compared as bytes against a matcher compiled once per
 * options object, and only a span that loses something is re-encoded, into a scratch buffer reused across calls;
 * every other span is still copied byte for byte. Resource attributes and link attributes are never touched.
 *
 * As the OTel specification asks of attributes dropped by processing, each span's `dropped_attributes_count`
 * (Span field 10) grows by the number of attributes removed from it, and each event's (Event field 4) likewise.
 */

export interface AttributeFilterOptions {
  /**
   * When given, only these keys are kept (plus ATTRIBUTES_ALWAYS_KEPT). Keys match exactly, or by prefix when the
   * pattern ends in `*` (`http.request.header.*`; `*` alone matches every key). `[]` keeps only the always-kept keys.
   */
  readonly allow?: readonly string[];
  /** Keys removed, with the same patterns; with `allow` as well, a key is kept when allowed and not denied. */
  readonly deny?: readonly string[];
}

/**
 * Span and event attributes kept whatever `allow` and `deny` say, because meshloop reads them downstream (same
 * pattern syntax). Current and older semantic-convention spellings are both listed: instrumentations emit either.
 * - what a span is counted under: `http.route`, `url.template` (HTTP client routes), `rpc.system[.name]`,
 *   `rpc.service`, `rpc.method`, `messaging.destination.name`, and the methods `http.request.method`, `http.method`;
 * - its outcome: `http.response.status_code`, `http.status_code`, `rpc.grpc.status_code`,
 *   `rpc.response.status_code`, `error.type`;
 * - the callee of an edge and the name of a virtual node (the Collector's servicegraph connector reads the same):
 *   `peer.service`, `server.address`, `net.peer.name`, `db.system[.name]`, `db.name`, `db.namespace`,
 *   `messaging.system`;
 * - the adjusted count (1 / sampling probability) counts are weighted by: `sampling.*` (`sampling.probability`,
 *   `sampling.adjusted_count`, `sampling.priority`) and Jaeger's `sampler.type` and `sampler.param`. The OTel
 *   consistent-sampling threshold (`ot=th:` in Span.trace_state) is not an attribute and is never touched.
 *   `otel.sampling.*` is not listed: no convention defines it, and the keys seen in the wild name rules, not rates.
 */
export const ATTRIBUTES_ALWAYS_KEPT: readonly string[] = Object.freeze([
  "http.route",
  "url.template",
  "rpc.system",
  "rpc.system.name",
  "rpc.service",
  "rpc.method",
  "messaging.destination.name",
  "http.request.method",
  "http.method",
  "http.response.status_code",
  "http.status_code",
  "rpc.grpc.status_code",
  "rpc.response.status_code",
  "error.type",
  "peer.service",
  "server.address",
  "net.peer.name",
  "db.system",
  "db.system.name",
  "db.name",
  "db.namespace",
  "messaging.system",
  "sampling.*",
  "sampler.type",
  "sampler.param",
]);

/**
 * A compiled filter: exact keys in an open-addressing hash table (see keyHash) with their decision
 * made at compile time, and the prefix patterns as byte strings for the keys the table does not hold.
 */
export class AttributeMatcher {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly keys: Buffer[] = [];
  private readonly hashes: number[] = [];
  private readonly keeps: boolean[] = [];
  private readonly alwaysPrefixes: Buffer[];
  private readonly allowPrefixes: Buffer[] | undefined;
  private readonly denyPrefixes: Buffer[];

  constructor(options: AttributeFilterOptions) {
    const always = parsePatterns(ATTRIBUTES_ALWAYS_KEPT, "ATTRIBUTES_ALWAYS_KEPT");
    // `allow: ["*"]` allows everything, as no allow list does.
    const listed = options.allow === undefined ? undefined : parsePatterns(options.allow, "attributes.allow");
    const allow = listed?.prefixes.includes("") ? undefined : listed;
    const deny = parsePatterns(options.deny ?? [], "attributes.deny");
    this.alwaysPrefixes = always.prefixes.map(utf8);
    this.allowPrefixes = allow?.prefixes.map(utf8);
    this.denyPrefixes = deny.prefixes.map(utf8);
    const exact = new Set([...always.exact, ...(allow?.exact ?? []), ...deny.exact]);
    let size = 16;
    while (size < exact.size * 4) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (const key of exact) {
      const keep =
        always.exact.has(key) ||
        always.prefixes.some((p) => key.startsWith(p)) ||
        ((allow === undefined || allow.exact.has(key) || allow.prefixes.some((p) => key.startsWith(p))) &&
          !deny.exact.has(key) &&
          !deny.prefixes.some((p) => key.startsWith(p)));
      const bytes = utf8(key);
      const hash = keyHash(bytes, 0, bytes.length);
      let slot = hash & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.keys.push(bytes);
      this.hashes.push(hash);
      this.keeps.push(keep);
      this.slots[slot] = this.keys.length;
    }
  }

  /** Whether the key in `buf[start, end)` (UTF-8 bytes) is kept. */
  keep(buf: Uint8Array, start: number, end: number): boolean {
    const hash = keyHash(buf, start, end);
    const length = end - start;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot]! - 1;
      if (entry < 0) break;
      if (this.hashes[entry] !== hash) continue;
      const key = this.keys[entry]!;
      if (key.length === length && startsWith(buf, start, end, key)) return this.keeps[entry]!;
    }
    // Not listed exactly anywhere: the prefixes decide.
    for (const prefix of this.alwaysPrefixes) if (startsWith(buf, start, end, prefix)) return true;
    const allow = this.allowPrefixes;
    if (allow !== undefined) {
      let allowed = false;
      for (const prefix of allow) {
        if (startsWith(buf, start, end, prefix)) {
          allowed = true;
          break;
        }
      }
      if (!allowed) return false;
    }
    for (const prefix of this.denyPrefixes) if (startsWith(buf, start, end, prefix)) return false;
    return true;
  }

  /** Whether the filter keeps a key given as a string (for tests and tools; the split compares bytes). */
  keepsKey(key: string): boolean {
    const bytes = utf8(key);
    return this.keep(bytes, 0, bytes.length);
  }
}

interface Patterns {
  readonly exact: Set<string>;
  readonly prefixes: string[];
}

function parsePatterns(list: readonly string[], name: string): Patterns {
  if (!Array.isArray(list)) throw new RangeError(`${name} must be an array of keys, got ${typeof list}`);
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const pattern of list as unknown[]) {
    if (typeof pattern !== "string") throw new RangeError(`${name} must hold strings, got ${typeof pattern}`);
    const star = pattern.indexOf("*");
    if (star === -1) exact.add(pattern);
    else if (star === pattern.length - 1) prefixes.push(pattern.slice(0, -1));
    else throw new RangeError(`${name}: "${pattern}" has a * before its end; only a trailing * (a prefix) is supported`);
  }
  return { exact, prefixes };
}

function utf8(text: string): Buffer {
  return Buffer.from(text, "utf8");
}

/**
 * A hash of a key from its length and a few of its bytes (the last four and one in the middle), not all of them:
 * keys sharing a namespace differ in length or near their end, and a collision only costs a byte comparison.
 */
function keyHash(buf: Uint8Array, start: number, end: number): number {
  const length = end - start;
  let hash = Math.imul(length, 0x9e3779b1);
  if (length >= 4) {
    const last = buf[end - 1]! | (buf[end - 2]! << 8) | (buf[end - 3]! << 16) | (buf[end - 4]! << 24);
    hash = Math.imul(hash ^ last, 0x85ebca6b);
    hash = Math.imul(hash ^ buf[start + (length >>> 1)]!, 0xc2b2ae35);
  } else {
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193);
  }
  return (hash ^ (hash >>> 15)) >>> 0;
}

function startsWith(buf: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  const length = prefix.length;
  if (end - start < length) return false;
  for (let i = 0; i < length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

const compiled = new WeakMap<AttributeFilterOptions, AttributeMatcher | null>();

/**
 * The matcher for `options`, compiled on first use and cached by the options object (treat it as immutable), or
 * undefined when the options can remove nothing: then the split takes its unfiltered path.
 */
export function attributeMatcher(options: AttributeFilterOptions | undefined): AttributeMatcher | undefined {
  if (options === undefined) return undefined;
  let matcher = compiled.get(options);
  if (matcher === undefined) {
    matcher = removesNothing(options) ? null : new AttributeMatcher(options);
    compiled.set(options, matcher);
  }
  return matcher ?? undefined;
}

function removesNothing(options: AttributeFilterOptions): boolean {
  const allow = options.allow === undefined ? undefined : parsePatterns(options.allow, "attributes.allow");
  const deny = parsePatterns(options.deny ?? [], "attributes.deny");
  if (allow !== undefined && !allow.prefixes.includes("")) return false;
  const always = parsePatterns(ATTRIBUTES_ALWAYS_KEPT, "ATTRIBUTES_ALWAYS_KEPT");
  return deny.prefixes.length === 0 && [...deny.exact].every((key) => always.exact.has(key));
}

// Rewritten spans, as whole Span fields (tag and length included), reused across calls; spans point into it.
const INITIAL_ARENA = 64 * 1024;
const MAX_RETAINED_ARENA = 4 * 1024 * 1024;
export let arena = Buffer.allocUnsafe(INITIAL_ARENA);
let arenaPos = 0;
/** Where the last span `stripSpan` rewrote is in `arena`. */
export let strippedFrom = 0;
export let strippedTo = 0;

/** Starts a request: the arena is reused, or let go of when a large request grew it. */
export function resetArena(): void {
  if (arena.length > MAX_RETAINED_ARENA) arena = Buffer.allocUnsafe(INITIAL_ARENA);
  arenaPos = 0;
}

// Edits of the span being stripped, in input order: replace [start, end) by nothing (REMOVE), by itself (KEEP), or,
// for a kind >= 2, by the one-byte tag `kind` and the varint `value` (a dropped count, or an event's new length).
const REMOVE = 0;
const KEEP = 1;
const SPAN_DROPPED = 0x50; // Span.dropped_attributes_count, field 10
const EVENT_DROPPED = 0x20; // Event.dropped_attributes_count, field 4
const EVENT_HEADER = 0x5a; // Span.events, field 11
let editStart = new Int32Array(64);
let editEnd = new Int32Array(64);
let editKind = new Int32Array(64);
let editValue = new Float64Array(64);
let edits = 0;

// Results of scanAttributes.
let scanRemoved = 0;
let scanDelta = 0;

/**
 * Filters the attributes of one span, whose body is `buf[bodyStart, bodyEnd)`, and of its events. Returns how many
 * it removed; when that is not 0, the rewritten Span field is at `arena[strippedFrom, strippedTo)`. Throws a
 * ValidationError when the attributes or events cannot be read (the caller rejects the span).
 */
export function stripSpan(r: WireReader, matcher: AttributeMatcher, bodyStart: number, bodyEnd: number): number {
  edits = 0;
  r.pos = bodyStart;
  r.limit = bodyEnd;
  scanAttributes(r, matcher, true);
  const removed = scanRemoved;
  if (removed === 0) return 0;
  const body = bodyEnd - bodyStart + scanDelta;
  writeSpan(r.buf, bodyStart, bodyEnd, body);
  return removed;
}

/**
 * Scans a Span (`span`) or an Event body, `r.buf[r.pos, r.limit)`, for attributes to remove, recording edits. Sets
 * `scanRemoved` to the attributes removed (its events' included) and `scanDelta` to the change of the body's size.
 * One-byte tags and lengths are read inline, the reader's methods are left for the long forms and for errors.
 */
function scanAttributes(r: WireReader, matcher: AttributeMatcher, span: boolean): void {
  const buf = r.buf;
  const end = r.limit;
  const attributesTag = span ? 0x4a : 0x1a;
  const droppedTag = span ? SPAN_DROPPED : EVENT_DROPPED;
  let pos = r.pos;
  let removedHere = 0;
  let removedBelow = 0;
  let delta = 0;
  let droppedBytes = 0;
  let droppedValue = 0;
  let droppedEdit = -1;
  let lastAttributeEnd = -1;
  while (pos < end) {
    const start = pos;
    let tag = buf[pos]!;
    if (tag < 0x80 && tag >= 8 && (tag & 7) < 6) {
      pos++;
    } else {
      r.pos = pos;
      tag = r.tag();
      pos = r.pos;
    }
    if ((tag & 7) === 2) {
      let length = buf[pos]!;
      if (length < 0x80 && length < end - pos) {
        pos++;
      } else {
        r.pos = pos;
        length = r.length();
        pos = r.pos;
      }
      const bodyStart = pos;
      pos += length;
      if (tag === attributesTag) {
        if (!keepKeyValue(r, matcher, bodyStart, pos)) {
          addEdit(start, pos, REMOVE, 0);
          removedHere++;
          delta -= pos - start;
        }
        lastAttributeEnd = pos;
      } else if (span && tag === EVENT_HEADER) {
        const header = addEdit(start, bodyStart, EVENT_HEADER, 0);
        r.pos = bodyStart;
        r.limit = pos;
        scanAttributes(r, matcher, false);
        r.limit = end;
        if (scanRemoved === 0) {
          edits = header; // the event stays as it is
        } else {
          const eventBody = length + scanDelta;
          editValue[header] = eventBody;
          delta += scanDelta + 1 + varintSize(eventBody) - (bodyStart - start);
          removedBelow += scanRemoved;
        }
      } else if (!span && tag >>> 3 === 4) {
        throw r.error("event field 4 has wire type 2, not 0", start);
      }
    } else if (tag === droppedTag) {
      r.pos = pos;
      droppedValue = r.varint32();
      pos = r.pos;
      // Left as it is unless attributes go; chained through `editValue` to the previous occurrence.
      droppedEdit = addEdit(start, pos, KEEP, droppedEdit);
      droppedBytes += pos - start;
    } else {
      if (!span && (tag >>> 3 === 3 || tag >>> 3 === 4)) {
        throw r.error(`event field ${tag >>> 3} has wire type ${tag & 7}, not ${tag >>> 3 === 3 ? 2 : 0}`, start);
      }
      r.pos = pos;
      r.skip(tag);
      pos = r.pos;
    }
  }
  if (removedHere > 0) {
    const dropped = Math.min(droppedValue + removedHere, 0xffffffff);
    delta += 1 + varintSize(dropped) - droppedBytes;
    if (droppedEdit >= 0) {
      // The last occurrence holds the value and gets the new one; earlier ones (overridden anyway) go.
      for (let e = editValue[droppedEdit]!; e >= 0; e = editValue[e]!) editKind[e] = REMOVE;
      editKind[droppedEdit] = droppedTag;
      editValue[droppedEdit] = dropped;
    } else {
      // None yet: after the last attribute, where a canonical encoder puts it.
      insertEdit(lastAttributeEnd, droppedTag, dropped);
    }
  }
  scanRemoved = removedHere + removedBelow;
  scanDelta = delta;
}

/** Whether the KeyValue in `buf[start, end)` is kept: its key (the last one, as protobuf merges) decides. */
function keepKeyValue(r: WireReader, matcher: AttributeMatcher, start: number, end: number): boolean {
  const buf = r.buf;
  // The usual form first: the key with a short length, then the value with a length of one or two bytes.
  if (end - start >= 2 && buf[start] === 0x0a && buf[start + 1]! < 0x80) {
    const keyStart = start + 2;
    const keyEnd = keyStart + buf[start + 1]!;
    if (keyEnd === end) return matcher.keep(buf, keyStart, keyEnd);
    if (end - keyEnd >= 2 && buf[keyEnd] === 0x12) {
      const b0 = buf[keyEnd + 1]!;
      if (b0 < 0x80) {
        if (keyEnd + 2 + b0 === end) return matcher.keep(buf, keyStart, keyEnd);
      } else if (end - keyEnd >= 3 && buf[keyEnd + 2]! < 0x80) {
        if (keyEnd + 3 + ((b0 & 0x7f) | (buf[keyEnd + 2]! << 7)) === end) return matcher.keep(buf, keyStart, keyEnd);
      }
    }
  }
  const outer = r.limit;
  r.pos = start;
  r.limit = end;
  let keyStart = start;
  let keyEnd = start;
  while (r.more()) {
    const at = r.pos;
    const tag = r.tag();
    if (tag === 0x0a) {
      keyStart = r.skipBytes();
      keyEnd = r.pos;
    } else if (tag >>> 3 === 1) {
      throw r.error(`attribute key has wire type ${tag & 7}, not 2`, at);
    } else {
      r.skip(tag);
    }
  }
  r.limit = outer;
  return matcher.keep(buf, keyStart, keyEnd);
}

function addEdit(start: number, end: number, kind: number, value: number): number {
  if (edits === editStart.length) growEdits();
  editStart[edits] = start;
  editEnd[edits] = end;
  editKind[edits] = kind;
  editValue[edits] = value;
  return edits++;
}

/** Inserts an empty-range edit at `at`, before the edits that start there or later. */
function insertEdit(at: number, kind: number, value: number): void {
  let e = edits;
  while (e > 0 && editStart[e - 1]! >= at) e--;
  addEdit(0, 0, 0, 0);
  editStart.copyWithin(e + 1, e, edits - 1);
  editEnd.copyWithin(e + 1, e, edits - 1);
  editKind.copyWithin(e + 1, e, edits - 1);
  editValue.copyWithin(e + 1, e, edits - 1);
  editStart[e] = at;
  editEnd[e] = at;
  editKind[e] = kind;
  editValue[e] = value;
}

function growEdits(): void {
  const size = editStart.length * 2;
  const start = new Int32Array(size);
  const end = new Int32Array(size);
  const kind = new Int32Array(size);
  const value = new Float64Array(size);
  start.set(editStart);
  end.set(editEnd);
  kind.set(editKind);
  value.set(editValue);
  editStart = start;
  editEnd = end;
  editKind = kind;
  editValue = value;
}

/** Writes the Span field with a body of `body` bytes: the input's bytes between the edits, and the edits'. */
function writeSpan(buf: Buffer, bodyStart: number, bodyEnd: number, body: number): void {
  const size = 1 + varintSize(body) + body;
  if (arena.length - arenaPos < size) {
    let length = arena.length * 2;
    while (length - arenaPos < size) length *= 2;
    const grown = Buffer.allocUnsafe(length);
    arena.copy(grown, 0, 0, arenaPos);
    arena = grown;
  }
  const out = arena;
  let at = arenaPos;
  out[at++] = 0x12;
  at = putVarint(out, at, body);
  let from = bodyStart;
  for (let e = 0; e < edits; e++) {
    const kind = editKind[e]!;
    if (kind === KEEP) continue;
    at += buf.copy(out, at, from, editStart[e]);
    if (kind !== REMOVE) {
      out[at++] = kind;
      at = putVarint(out, at, editValue[e]!);
    }
    from = editEnd[e]!;
  }
  at += buf.copy(out, at, from, bodyEnd);
  if (at - arenaPos !== size) {
    throw new MeshloopError(`stripSpan: wrote ${at - arenaPos} bytes of a ${size}-byte span`);
  }
  strippedFrom = arenaPos;
  strippedTo = at;
  arenaPos = at;
}

function putVarint(out: Buffer, at: number, value: number): number {
  while (value > 0x7f) {
    out[at++] = (value & 0x7f) | 0x80;
    value = value > 0xffffffff ? Math.floor(value / 128) : value >>> 7;
  }
  out[at++] = value;
  return at;
}
