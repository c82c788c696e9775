import { MeshloopError } from "@meshloop/errors";
import type { AttributeFilterOptions } from "./attribute-filter.ts";
import { arena, attributeMatcher } from "./attribute-filter.ts";
import type { Group } from "./trace-groups.ts";
import type { TraceWalk } from "./trace-walk.ts";
import {
  rejectSpan,
  spanFrom,
  spanOrdinal,
  spanPartitionOf,
  spanScope,
  spanStripped,
  spanTo,
  walkTraceRequest,
} from "./trace-walk.ts";
import { varintSize } from "./wire-writer.ts";

/**
 * Splits an ExportTraceServiceRequest by trace partition without decoding spans. Every output message is itself a
 * valid ExportTraceServiceRequest holding one partition's spans, byte for byte, under copies of their original
 * ResourceSpans and ScopeSpans fields (resource, scope, schema_url and unknown fields verbatim), so consumers see
 * what the client sent. Two passes: the walk records where each valid span is (trace-walk.ts); then, partition by
 * partition, a plan computes exact message sizes under `maxMessageBytes`, and all messages are written into one
 * allocation by byte copies. With `attributes`, spans that lose attributes are the one exception to byte-for-byte:
 * they are re-encoded with those attributes left out (attribute-filter.ts), and planned at their new size.
 */

export interface SplitOptions {
  /** Partitions of the spans topic; spans go where `spanPartition(traceId, partitionCount)` says. */
  readonly partitionCount: number;
  /** Upper bound of each message value; leave headroom below the broker's limit for the record's own overhead. */
  readonly maxMessageBytes: number;
  /**
   * The `service.name` given to resources that have none (default `unknown_service`, with `:<process.executable.name>`
   * appended when the resource names its executable, as the OTel resource conventions prescribe).
   */
  readonly defaultServiceName?: string;
  /**
   * Span and span-event attributes to strip before Kafka: `allow` keeps only the keys it lists, `deny` removes keys,
   * both: allowed and not denied. Patterns are exact keys or prefixes ending in `*` (`http.request.header.*`).
   * ATTRIBUTES_ALWAYS_KEPT are kept whatever the lists say; resource and link attributes are never filtered. Each
   * span's and event's `dropped_attributes_count` grows by what was removed from it. The object is compiled once
   * and cached by identity: pass the same one on every call and do not change it afterwards.
   */
  readonly attributes?: AttributeFilterOptions;
}

export interface PartitionMessage {
  readonly partition: number;
  /** An ExportTraceServiceRequest. */
  readonly value: Buffer;
  readonly spans: number;
}

export interface SplitResult {
  /** By partition, ascending; a partition gets several messages when its spans exceed `maxMessageBytes`. */
  readonly messages: PartitionMessage[];
  readonly acceptedSpans: number;
  readonly rejectedSpans: number;
  /** Attributes removed by the `attributes` filter from the accepted spans and their events; 0 without a filter. */
  readonly strippedAttributes: number;
  /** The first few reasons, for ExportTracePartialSuccess.error_message; undefined when nothing was rejected. */
  readonly errorMessage: string | undefined;
}

// Body sizes of the groups of all planned messages, in the order they open; reused across calls.
let groupSizes = new Int32Array(1024);
let order = new Int32Array(1024);

/** A message as planned: its spans `order[first..end)`, its size, and where its group sizes start. */
interface Plan {
  readonly partition: number;
  readonly first: number;
  readonly end: number;
  readonly size: number;
  readonly groups: number;
  readonly spans: number;
}

export function splitTraceRequest(body: Uint8Array, options: SplitOptions): SplitResult {
  const { partitionCount, maxMessageBytes } = options;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new RangeError(`maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
  }
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > 0x7fffffff) {
    throw new RangeError(`partitionCount must be an integer in 1..2^31-1, got ${partitionCount}`);
  }
  const filter = attributeMatcher(options.attributes);
  const walk = walkTraceRequest(body, partitionCount, options.defaultServiceName, filter);
  const messages: PartitionMessage[] = [];
  let acceptedSpans = 0;
  let strippedAttributes = 0;
  if (walk.spans > 0) {
    const starts = sortByPartition(walk, partitionCount);
    if (groupSizes.length < 2 * walk.spans) groupSizes = new Int32Array(2 * walk.spans);
    const plans: Plan[] = [];
    let groups = 0;
    for (let p = 0; p < partitionCount; p++) {
      if (starts[p + 1]! > starts[p]!) groups = planPartition(walk, p, starts[p]!, starts[p + 1]!, maxMessageBytes, plans, groups);
    }
    // One allocation for all messages: a few large ArrayBuffers cost more than the copying.
    let total = 0;
    for (const plan of plans) total += plan.size;
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (const plan of plans) {
      const value = out.subarray(at, at + plan.size);
      writeMessage(walk, plan, value);
      at += plan.size;
      acceptedSpans += plan.spans;
      messages.push({ partition: plan.partition, value, spans: plan.spans });
    }
    if (filter !== undefined) {
      // Spans rejected while planning (too large) are -1 in `order`.
      for (let i = 0; i < walk.spans; i++) if (order[i]! >= 0) strippedAttributes += spanStripped[order[i]!]!;
    }
  }
  return {
    messages,
    acceptedSpans,
    rejectedSpans: walk.rejected,
    strippedAttributes,
    errorMessage: rejectionMessage(walk),
  };
}

/** A stable counting sort of span indexes by partition into `order`; returns each partition's start (and the end). */
function sortByPartition(walk: TraceWalk, partitionCount: number): Int32Array {
  const starts = new Int32Array(partitionCount + 1);
  for (let p = 0; p < partitionCount; p++) starts[p + 1] = starts[p]! + walk.partitionSpans[p]!;
  if (order.length < walk.spans) order = new Int32Array(Math.max(walk.spans, order.length * 2));
  const next = starts.slice(0, partitionCount);
  for (let i = 0; i < walk.spans; i++) order[next[spanPartitionOf[i]!]!++] = i;
  return starts;
}

/** Size of a length-delimited field with a one-byte tag. */
function field(bodySize: number): number {
  return 1 + varintSize(bodySize) + bodySize;
}

/**
 * Packs the spans `order[from..to)` of one partition into as few messages as the size limit allows. Spans stay in
 * request order, so the spans of one scope are contiguous and each message opens every group at most once.
 */
function planPartition(
  walk: TraceWalk,
  partition: number,
  from: number,
  to: number,
  max: number,
  plans: Plan[],
  groupsBefore: number,
): number {
  const { resources, scopes } = walk;
  const spanStarts = spanFrom;
  const spanEnds = spanTo;
  const spanScopes = spanScope;
  let groups = groupsBefore;
  let i = from;
  while (i < to) {
    let first = i;
    let count = 0;
    const groupStart = groups;
    let resource = -1;
    let scope = -1;
    let resourceSlot = -1;
    let scopeSlot = -1;
    // Sizes so far: closed ResourceSpans fields, the open ResourceSpans body without the open ScopeSpans, and that.
    let closed = 0;
    let resourceBody = 0;
    let scopeBody = 0;
    let total = 0;
    for (; i < to; i++) {
      const s = order[i]!;
      const spanSize = spanEnds[s]! - spanStarts[s]!;
      const sc = spanScopes[s]!;
      const scopeGroup: Group = scopes[sc]!;
      const res = scopeGroup.resource;
      let nextClosed = closed;
      let nextResourceBody: number;
      let nextScopeBody: number;
      if (sc === scope) {
        nextResourceBody = resourceBody;
        nextScopeBody = scopeBody + spanSize;
      } else if (res === resource) {
        nextResourceBody = resourceBody + field(scopeBody);
        nextScopeBody = scopeGroup.headerSize + spanSize;
      } else {
        if (resource >= 0) nextClosed += field(resourceBody + field(scopeBody));
        nextResourceBody = resources[res]!.headerSize;
        nextScopeBody = scopeGroup.headerSize + spanSize;
      }
      const nextTotal = nextClosed + field(nextResourceBody + field(nextScopeBody));
      if (nextTotal > max) {
        const alone = field(resources[res]!.headerSize + field(scopeGroup.headerSize + spanSize));
        if (alone <= max) break;
        // No message can carry it: reject it, and mark it for writeMessage to pass over.
        rejectSpan(walk, sc, spanOrdinal[s]!, `${alone} bytes with its resource and scope, more than maxMessageBytes ${max}`);
        order[i] = -1;
        if (count === 0) first = i + 1;
        continue;
      }
      if (sc !== scope) {
        if (scopeSlot >= 0) groupSizes[scopeSlot] = scopeBody;
        if (res !== resource) {
          if (resourceSlot >= 0) groupSizes[resourceSlot] = resourceBody + field(scopeBody);
          resourceSlot = groups++;
          resource = res;
        }
        scopeSlot = groups++;
        scope = sc;
      }
      closed = nextClosed;
      resourceBody = nextResourceBody;
      scopeBody = nextScopeBody;
      total = nextTotal;
      count++;
    }
    if (count === 0) continue;
    groupSizes[scopeSlot] = scopeBody;
    groupSizes[resourceSlot] = resourceBody + field(scopeBody);
    plans.push({ partition, first, end: i, size: total, groups: groupStart, spans: count });
  }
  return groups;
}

/** Writes a planned message into `out`, exactly its size: group headers and byte copies. */
function writeMessage(walk: TraceWalk, plan: Plan, out: Buffer): void {
  const { buf, resources, scopes } = walk;
  const stripped = walk.filter === undefined ? undefined : arena;
  const { first, end, size } = plan;
  let at = 0;
  let next = plan.groups;
  let resource: Group | undefined;
  let scope = -1;
  for (let i = first; i < end; i++) {
    const s = order[i]!;
    if (s < 0) continue;
    const sc = spanScope[s]!;
    if (sc !== scope) {
      const scopeGroup = scopes[sc]!;
      if (scope >= 0) at = put(out, at, scopes[scope]!.tail);
      const res = resources[scopeGroup.resource]!;
      if (res !== resource) {
        if (resource !== undefined) at = put(out, at, resource.tail);
        out[at++] = 0x0a;
        at = putVarint(out, at, groupSizes[next++]!);
        at = put(out, at, res.head);
        resource = res;
      }
      out[at++] = 0x12;
      at = putVarint(out, at, groupSizes[next++]!);
      at = put(out, at, scopeGroup.head);
      scope = sc;
    }
    const source = stripped !== undefined && spanStripped[s] !== 0 ? stripped : buf;
    at += source.copy(out, at, spanFrom[s], spanTo[s]);
  }
  at = put(out, at, scopes[scope]!.tail);
  at = put(out, at, resource!.tail);
  if (at !== size) throw new MeshloopError(`splitTraceRequest: wrote ${at} bytes of a ${size}-byte message`);
}

function put(out: Buffer, at: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return at;
  out.set(bytes, at);
  return at + bytes.length;
}

function putVarint(out: Buffer, at: number, value: number): number {
  while (value > 0x7f) {
    out[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[at++] = value;
  return at;
}

function rejectionMessage(walk: TraceWalk): string | undefined {
  if (walk.rejected === 0) return undefined;
  const more = walk.rejected - walk.reasons.length;
  const tail = more > 0 ? `; and ${more} more` : "";
  const noun = walk.rejected === 1 ? "span" : "spans";
  return `${walk.rejected} ${noun} rejected: ${walk.reasons.join("; ")}${tail}`;
}
