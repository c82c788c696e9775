import { spanPartition } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import type { AttributeMatcher } from "./attribute-filter.ts";
import { resetArena, stripSpan, strippedFrom, strippedTo } from "./attribute-filter.ts";
import { emptyResourceInfo, readResourceInfo, UNKNOWN_SERVICE } from "./resource-attributes.ts";
import type { Group } from "./trace-groups.ts";
import { EMPTY, gather, resourceWithServiceName } from "./trace-groups.ts";
import { allZero, WireReader } from "./wire-reader.ts";

/**
 * The first pass of splitting a trace request: one walk over ExportTraceServiceRequest bytes that reads each span's
 * ids and times (nothing else of it), validates them, picks its partition and records where its bytes are. Spans
 * go into typed arrays reused across calls; only resources and scopes, a handful per request, get objects.
 * With an attribute filter, each valid span is also scanned for attributes to remove (attribute-filter.ts); a span
 * that loses some is recorded where its rewritten bytes are, in the filter's arena, instead of in the request.
 */

export interface TraceWalk {
  readonly buf: Buffer;
  readonly resources: Group[];
  readonly scopes: Group[];
  /** Valid spans recorded in the span tables. */
  spans: number;
  /** Spans per partition. */
  readonly partitionSpans: Int32Array;
  rejected: number;
  readonly reasons: string[];
  /** The attribute filter, if any; then spans with `spanStripped[i] > 0` are in `arena`, not in `buf`. */
  readonly filter: AttributeMatcher | undefined;
  /** A reader over `buf` for the filter's scans, separate from the walk's own. */
  readonly filterReader: WireReader | undefined;
}

export const MAX_REASONS = 5;

/** Span tables, grown as needed and reused: field start (tag included) and end, scope index, ordinal, partition. */
export let spanFrom = new Int32Array(1024);
export let spanTo = new Int32Array(1024);
export let spanScope = new Int32Array(1024);
export let spanOrdinal = new Int32Array(1024);
export let spanPartitionOf = new Int32Array(1024);
/** Attributes the filter removed from the span and its events (only written when filtering; 0: copied as it is). */
export let spanStripped = new Int32Array(1024);

// Wire type of Span fields 1..16; a span with another would fail to decode in consumers, so it is rejected.
const SPAN_WIRE_TYPES = Uint8Array.of(0xff, 2, 2, 2, 2, 2, 0, 1, 1, 2, 0, 2, 0, 2, 0, 2, 5);
const TRACE_ID = new Uint8Array(16);

export function walkTraceRequest(
  body: Uint8Array,
  partitionCount: number,
  defaultServiceName?: string,
  filter?: AttributeMatcher,
): TraceWalk {
  const r = new WireReader(body);
  if (filter !== undefined) resetArena();
  const walk: TraceWalk = {
    buf: r.buf,
    resources: [],
    scopes: [],
    spans: 0,
    partitionSpans: new Int32Array(partitionCount),
    rejected: 0,
    reasons: [],
    filter,
    filterReader: filter === undefined ? undefined : new WireReader(r.buf),
  };
  while (r.more()) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const outer = r.enter(r.length());
      walkResourceSpans(r, walk, partitionCount, defaultServiceName);
      r.leave(outer);
    } else {
      // Unknown fields of the request itself have no place in per-partition requests; they are dropped.
      expectLengthDelimited(r, tag, 1);
      r.skip(tag);
    }
  }
  return walk;
}

function walkResourceSpans(r: WireReader, walk: TraceWalk, partitionCount: number, fallback?: string): void {
  const index = walk.resources.length;
  const group: Group = { head: EMPTY, tail: EMPTY, headerSize: 0, resource: -1, ordinal: index };
  walk.resources.push(group);
  // Non-child fields as (start, end, place) triples, see gather().
  const pieces: number[] = [];
  const info = emptyResourceInfo();
  let scopeOrdinal = 0;
  while (r.more()) {
    const start = r.pos;
    const tag = r.tag();
    if (tag === 0x12) {
      const outer = r.enter(r.length());
      walkScopeSpans(r, walk, index, scopeOrdinal++, partitionCount);
      r.leave(outer);
      continue;
    }
    const after = scopeOrdinal > 0 ? 1 : 0;
    if (tag === 0x0a) {
      const outer = r.enter(r.length());
      readResourceInfo(r, info);
      r.leave(outer);
      pieces.push(start, r.pos, 2 + after);
    } else {
      expectLengthDelimited(r, tag, 3);
      r.skip(tag);
      pieces.push(start, r.pos, after);
    }
  }
  let prefix: Uint8Array | undefined;
  if (!info.hasServiceName) {
    const base = fallback ?? UNKNOWN_SERVICE;
    const exe = info.processExecutableName;
    prefix = resourceWithServiceName(walk.buf, pieces, exe ? `${base}:${exe}` : base);
  }
  const keepResource = prefix === undefined;
  group.head = gather(walk.buf, pieces, 0, keepResource, prefix);
  group.tail = gather(walk.buf, pieces, 1, keepResource, undefined);
  group.headerSize = group.head.length + group.tail.length;
}

function walkScopeSpans(r: WireReader, walk: TraceWalk, resource: number, ordinal: number, partitionCount: number): void {
  const index = walk.scopes.length;
  const group: Group = { head: EMPTY, tail: EMPTY, headerSize: 0, resource, ordinal };
  walk.scopes.push(group);
  const pieces: number[] = [];
  let spanOrdinalInScope = 0;
  while (r.more()) {
    const start = r.pos;
    const tag = r.tag();
    if (tag === 0x12) {
      const outer = r.enter(r.length());
      readSpan(r, walk, start, index, spanOrdinalInScope++, partitionCount);
      r.leave(outer);
    } else {
      expectLengthDelimited(r, tag, 3);
      r.skip(tag);
      pieces.push(start, r.pos, spanOrdinalInScope > 0 ? 1 : 0);
    }
  }
  group.head = gather(walk.buf, pieces, 0, true, undefined);
  group.tail = gather(walk.buf, pieces, 1, true, undefined);
  group.headerSize = group.head.length + group.tail.length;
}

/** Reads one span (the reader holds its body), validates it and records it or its rejection. */
function readSpan(
  r: WireReader,
  walk: TraceWalk,
  fieldStart: number,
  scope: number,
  ordinal: number,
  partitionCount: number,
): void {
  // The hottest loop of the ingest: position in a local, one-byte tags and lengths inline, the reader's methods
  // only for the rare long forms and for errors.
  const buf = r.buf;
  const end = r.limit;
  const bodyStart = r.pos;
  let pos = bodyStart;
  let traceAt = 0;
  let traceLength = 0;
  let spanAt = 0;
  let spanLength = 0;
  let startLo = 0;
  let startHi = 0;
  let endLo = 0;
  let endHi = 0;
  let badTag = 0;
  while (pos < end) {
    let tag = buf[pos]!;
    if (tag < 0x80 && tag >= 8 && (tag & 7) < 6) {
      pos++;
    } else if (tag >= 0x80 && (tag & 7) < 6 && end - pos > 1 && buf[pos + 1]! < 0x80 && buf[pos + 1]! > 0) {
      // Two-byte tags: fields 16 to 2047, flags among them.
      tag = (tag & 0x7f) | (buf[pos + 1]! << 7);
      pos += 2;
    } else {
      r.pos = pos;
      tag = r.tag();
      pos = r.pos;
    }
    const wireType = tag & 7;
    if (wireType === 2) {
      let length = buf[pos]!;
      if (length < 0x80 && length < end - pos) {
        pos++;
      } else {
        r.pos = pos;
        length = r.length();
        pos = r.pos;
      }
      if (tag === 0x0a) {
        traceAt = pos;
        traceLength = length;
      } else if (tag === 0x12) {
        spanAt = pos;
        spanLength = length;
      } else if (tag < 0x88 && SPAN_WIRE_TYPES[tag >>> 3] !== 2 && badTag === 0) {
        badTag = tag;
      }
      pos += length;
    } else if (tag === 0x39 || tag === 0x41) {
      if (end - pos < 8) throw r.error("truncated field: 8 bytes expected", pos);
      if (tag === 0x39) {
        startLo = u32(buf, pos);
        startHi = u32(buf, pos + 4);
      } else {
        endLo = u32(buf, pos);
        endHi = u32(buf, pos + 4);
      }
      pos += 8;
    } else {
      if (tag < 0x88 && SPAN_WIRE_TYPES[tag >>> 3] !== wireType && badTag === 0) badTag = tag;
      if (wireType === 0 && pos < end && buf[pos]! < 0x80) {
        pos++; // kind and the dropped counts: one-byte varints
      } else if (wireType === 5 && end - pos >= 4) {
        pos += 4; // flags
      } else {
        r.pos = pos;
        r.skip(tag);
        pos = r.pos;
      }
    }
  }
  r.pos = pos;
  let problem: string | undefined;
  if (badTag !== 0) {
    problem = `field ${badTag >>> 3} has wire type ${badTag & 7}, not ${SPAN_WIRE_TYPES[badTag >>> 3]}`;
  } else if (traceLength !== 16) problem = `trace_id is ${traceLength} bytes, not 16`;
  else if (allZero(buf, traceAt, 16)) problem = "trace_id is all zeros";
  else if (spanLength !== 8) problem = `span_id is ${spanLength} bytes, not 8`;
  else if (allZero(buf, spanAt, 8)) problem = "span_id is all zeros";
  else if (endHi < startHi || (endHi === startHi && endLo < startLo)) problem = "end_time_unix_nano is before start_time_unix_nano";
  let stripped = 0;
  if (problem === undefined && walk.filter !== undefined) {
    stripped = filterSpan(walk, bodyStart, end);
    if (stripped < 0) problem = filterProblem;
  }
  if (problem !== undefined) {
    rejectSpan(walk, scope, ordinal, problem);
    return;
  }
  const i = walk.spans++;
  if (i === spanFrom.length) growSpanTables();
  for (let k = 0; k < 16; k++) TRACE_ID[k] = buf[traceAt + k]!;
  const partition = spanPartition(TRACE_ID, partitionCount);
  if (stripped > 0) {
    spanFrom[i] = strippedFrom;
    spanTo[i] = strippedTo;
  } else {
    spanFrom[i] = fieldStart;
    spanTo[i] = end;
  }
  if (walk.filter !== undefined) spanStripped[i] = stripped;
  spanScope[i] = scope;
  spanOrdinal[i] = ordinal;
  spanPartitionOf[i] = partition;
  walk.partitionSpans[partition]!++;
}

let filterProblem = "";

/**
 * Runs the attribute filter over a valid span's body: the attributes removed (the span rewritten into the arena
 * when not 0), or -1 with `filterProblem` set when its attributes or events cannot be read.
 */
function filterSpan(walk: TraceWalk, bodyStart: number, bodyEnd: number): number {
  try {
    return stripSpan(walk.filterReader!, walk.filter!, bodyStart, bodyEnd);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    filterProblem = `attributes or events unreadable: ${error.message}`;
    return -1;
  }
}

/** Counts a rejected span and keeps the reason if it is among the first few. */
export function rejectSpan(walk: TraceWalk, scope: number, ordinal: number, problem: string): void {
  walk.rejected++;
  if (walk.reasons.length >= MAX_REASONS) return;
  const group = walk.scopes[scope]!;
  walk.reasons.push(`span ${ordinal} of scope ${group.ordinal} of resource ${group.resource}: ${problem}`);
}

/** Fields 1..maxField of ResourceSpans, ScopeSpans and the request are all messages or strings. */
function expectLengthDelimited(r: WireReader, tag: number, maxField: number): void {
  if (tag >>> 3 <= maxField && (tag & 7) !== 2) {
    throw r.error(`field ${tag >>> 3} has wire type ${tag & 7}, not 2`, r.pos - 1);
  }
}

function u32(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}


function growSpanTables(): void {
  const size = spanFrom.length * 2;
  spanFrom = grow(spanFrom, size);
  spanTo = grow(spanTo, size);
  spanScope = grow(spanScope, size);
  spanOrdinal = grow(spanOrdinal, size);
  spanPartitionOf = grow(spanPartitionOf, size);
  spanStripped = grow(spanStripped, size);
}

function grow(table: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(size);
  grown.set(table);
  return grown;
}
