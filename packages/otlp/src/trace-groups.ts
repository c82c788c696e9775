import { WireReader } from "./wire-reader.ts";
import { WireWriter } from "./wire-writer.ts";

/**
 * The parts of ResourceSpans and ScopeSpans that every output message repeats: all their fields but the children,
 * as they were (a view of the request when they are one range), with the Resource rebuilt only when service.name
 * must be added. Fields before the first child stay before the children in the output, the others after, so a
 * request that needs no change comes out byte for byte as it went in.
 */

/** The bytes of a ResourceSpans or ScopeSpans other than its children: written before and after them. */
export interface Group {
  head: Uint8Array;
  tail: Uint8Array;
  headerSize: number;
  /** For a scope, the index of its resource in `TraceWalk.resources`; for a resource, -1. */
  readonly resource: number;
  /** Position among its siblings in the request, for messages about its spans. */
  readonly ordinal: number;
}

export const EMPTY = Buffer.alloc(0);

/**
 * Where a parent's non-child fields are: (start, end, place) triples, place 0 before its first child and 1 after,
 * 2 and 3 the same for Resource fields, which are left out when the Resource is rebuilt (`keepResource` false).
 * Returns the fields of one place (0 head, 1 tail) after `prefix`: a view when they are one range, else a copy.
 */
export function gather(buf: Buffer, pieces: number[], place: number, keepResource: boolean, prefix?: Uint8Array): Uint8Array {
  let size = prefix?.length ?? 0;
  let ranges = prefix === undefined ? 0 : 1;
  let first = -1;
  let lastEnd = -1;
  for (let i = 0; i < pieces.length; i += 3) {
    if (!takes(pieces[i + 2]!, place, keepResource)) continue;
    size += pieces[i + 1]! - pieces[i]!;
    // Pieces that follow each other in the input are one range.
    if (pieces[i] !== lastEnd) ranges++;
    lastEnd = pieces[i + 1]!;
    if (first < 0) first = i;
  }
  if (size === 0) return EMPTY;
  if (ranges === 1 && prefix === undefined) return buf.subarray(pieces[first], pieces[first]! + size);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  if (prefix !== undefined) {
    out.set(prefix, 0);
    at = prefix.length;
  }
  for (let i = 0; i < pieces.length; i += 3) {
    if (takes(pieces[i + 2]!, place, keepResource)) at += buf.copy(out, at, pieces[i], pieces[i + 1]);
  }
  return out;
}

function takes(piecePlace: number, place: number, keepResource: boolean): boolean {
  return piecePlace === place || (keepResource && piecePlace === place + 2);
}

/**
 * A Resource field holding the bodies of all the resource's Resource fields (protobuf merges repeated occurrences
 * by concatenation) plus a `service.name` attribute: the one place a resource is re-encoded.
 */
export function resourceWithServiceName(buf: Buffer, pieces: number[], serviceName: string): Uint8Array {
  const w = new WireWriter(256);
  w.tag(1, 2);
  const resource = w.fork();
  for (let i = 0; i < pieces.length; i += 3) {
    if (pieces[i + 2]! < 2) continue;
    const field = new WireReader(buf, pieces[i], pieces[i + 1]);
    field.tag();
    const start = field.skipBytes();
    w.raw(buf, start, field.pos);
  }
  w.tag(1, 2);
  const keyValue = w.fork();
  w.tag(1, 2);
  w.string("service.name");
  w.tag(2, 2);
  const anyValue = w.fork();
  w.tag(1, 2);
  w.string(serviceName);
  w.join(anyValue);
  w.join(keyValue);
  w.join(resource);
  return w.finish();
}
