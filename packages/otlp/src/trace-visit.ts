import type { ResourceInfo } from "./resource-attributes.ts";
import { effectiveServiceName, emptyResourceInfo, readResourceInfo } from "./resource-attributes.ts";
import { WireReader } from "./wire-reader.ts";

/**
 * Reading spans for aggregation: a visitor walks an ExportTraceServiceRequest and is handed one cursor, reused for
 * every span, whose scalar fields are set and whose ids, name and attributes are read on demand from the bytes.
 * A consumer that only counts spans per service and route allocates nothing per span beyond what it asks for.
 */

export interface ResourceSummary {
  /** Position of the ResourceSpans in the request. */
  readonly index: number;
  /** `service.name`, or `unknown_service[:<process.executable.name>]` when the resource has none. */
  readonly service: string;
  readonly attributes: Readonly<ResourceInfo>;
}

export type AttributeValue = string | number | boolean;

const keyBytes = new Map<string, Buffer>();

export class SpanCursor {
  readonly buf: Buffer;
  resource: ResourceSummary = { index: -1, service: "", attributes: emptyResourceInfo() };
  /** Position of the ScopeSpans in its ResourceSpans, and of the span in its ScopeSpans. */
  scopeIndex = 0;
  spanIndex = 0;
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind = 0;
  /** Status.code: 0 unset, 1 ok, 2 error. */
  statusCode = 0;
  /** Span.flags: W3C trace flags in the low byte, then the OTLP has-remote and is-remote bits. */
  flags = 0;
  /** Times as numbers of nanoseconds, exact to within 256 ns for present-day timestamps. */
  startTimeUnixNano = 0;
  endTimeUnixNano = 0;
  /** end - start, exact (computed on the 64-bit halves); negative when the end is before the start. */
  durationNanos = 0;
  // Byte ranges of the current span's fields (start = -1: absent) and of its whole body.
  traceIdStart = -1;
  traceIdEnd = -1;
  spanIdStart = -1;
  spanIdEnd = -1;
  parentStart = -1;
  parentEnd = -1;
  nameStart = -1;
  nameEnd = -1;
  bodyStart = 0;
  bodyEnd = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  traceId(): Buffer {
    return this.range(this.traceIdStart, this.traceIdEnd);
  }

  traceIdHex(): string {
    return this.traceIdStart < 0 ? "" : this.buf.toString("hex", this.traceIdStart, this.traceIdEnd);
  }

  spanId(): Buffer {
    return this.range(this.spanIdStart, this.spanIdEnd);
  }

  spanIdHex(): string {
    return this.spanIdStart < 0 ? "" : this.buf.toString("hex", this.spanIdStart, this.spanIdEnd);
  }

  /** Whether the span names a parent (a non-empty parent_span_id). */
  hasParent(): boolean {
    return this.parentEnd > this.parentStart;
  }

  parentSpanIdHex(): string {
    return this.parentStart < 0 ? "" : this.buf.toString("hex", this.parentStart, this.parentEnd);
  }

  name(): string {
    return this.nameStart < 0 ? "" : this.buf.toString("utf8", this.nameStart, this.nameEnd);
  }

  /** The span's bytes (a Span message body), as a view. */
  bytes(): Buffer {
    return this.buf.subarray(this.bodyStart, this.bodyEnd);
  }

  /**
   * The value of a span attribute of a scalar type (int64 as the nearest number), or undefined when the span has
   * no such attribute or it holds an array, kvlist or bytes. Scans the span's attributes on each call.
   */
  attribute(key: string): AttributeValue | undefined {
    let wanted = keyBytes.get(key);
    if (wanted === undefined) {
      wanted = Buffer.from(key, "utf8");
      if (keyBytes.size < 1024) keyBytes.set(key, wanted);
    }
    const r = new WireReader(this.buf, this.bodyStart, this.bodyEnd);
    let found: AttributeValue | undefined;
    while (r.more()) {
      const tag = r.tag();
      if (tag !== 0x4a) {
        r.skip(tag);
        continue;
      }
      const outer = r.enter(r.length());
      let matches = false;
      let valueStart = -1;
      let valueEnd = -1;
      while (r.more()) {
        const kvTag = r.tag();
        if (kvTag === 0x0a) {
          const start = r.skipBytes();
          matches = r.pos - start === wanted.length && this.buf.compare(wanted, 0, wanted.length, start, r.pos) === 0;
        } else if (kvTag === 0x12) {
          valueStart = r.skipBytes();
          valueEnd = r.pos;
        } else {
          r.skip(kvTag);
        }
      }
      r.leave(outer);
      // Duplicate keys are invalid OTLP; the last one wins, as in a map built from the list.
      if (matches) found = valueStart < 0 ? undefined : readScalar(new WireReader(this.buf, valueStart, valueEnd));
    }
    return found;
  }

  private range(start: number, end: number): Buffer {
    return start < 0 ? this.buf.subarray(0, 0) : this.buf.subarray(start, end);
  }
}

function readScalar(r: WireReader): AttributeValue | undefined {
  let value: AttributeValue | undefined;
  while (r.more()) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a: {
        const start = r.skipBytes();
        value = r.buf.toString("utf8", start, r.pos);
        break;
      }
      case 0x10:
        value = r.varint32() !== 0;
        break;
      case 0x18:
        value = r.varint64();
        break;
      case 0x21:
        value = r.double();
        break;
      default:
        r.skip(tag);
        value = undefined;
    }
  }
  return value;
}

/**
 * Calls `visit` for every span of an ExportTraceServiceRequest, in order, with the same cursor. Malformed framing
 * throws a ValidationError; ids and times are not validated (splitTraceRequest did that before the spans topic).
 */
export function visitSpans(body: Uint8Array, visit: (span: SpanCursor) => void): void {
  const r = new WireReader(body);
  const cursor = new SpanCursor(r.buf);
  let resourceIndex = 0;
  while (r.more()) {
    const tag = r.tag();
    if (tag !== 0x0a) {
      r.skip(tag);
      continue;
    }
    const outer = r.enter(r.length());
    cursor.resource = readResourceSummary(r, resourceIndex++);
    let scopeIndex = 0;
    while (r.more()) {
      const rsTag = r.tag();
      if (rsTag !== 0x12) {
        r.skip(rsTag);
        continue;
      }
      const scopeOuter = r.enter(r.length());
      cursor.scopeIndex = scopeIndex++;
      cursor.spanIndex = 0;
      while (r.more()) {
        const ssTag = r.tag();
        if (ssTag !== 0x12) {
          r.skip(ssTag);
          continue;
        }
        const spanOuter = r.enter(r.length());
        readSpan(r, cursor);
        r.leave(spanOuter);
        visit(cursor);
        cursor.spanIndex++;
      }
      r.leave(scopeOuter);
    }
    r.leave(outer);
  }
}

/** Reads the Resource fields of a ResourceSpans first, wherever they are, and rewinds for its scopes. */
function readResourceSummary(r: WireReader, index: number): ResourceSummary {
  const start = r.pos;
  const info = emptyResourceInfo();
  while (r.more()) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const outer = r.enter(r.length());
      readResourceInfo(r, info);
      r.leave(outer);
    } else {
      r.skip(tag);
    }
  }
  r.pos = start;
  return { index, service: effectiveServiceName(info), attributes: info };
}

function readSpan(r: WireReader, c: SpanCursor): void {
  c.bodyStart = r.pos;
  c.bodyEnd = r.limit;
  c.traceIdStart = c.spanIdStart = c.parentStart = c.nameStart = -1;
  c.traceIdEnd = c.spanIdEnd = c.parentEnd = c.nameEnd = -1;
  c.kind = c.statusCode = c.flags = 0;
  let startLo = 0;
  let startHi = 0;
  let endLo = 0;
  let endHi = 0;
  while (r.more()) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        c.traceIdStart = r.skipBytes();
        c.traceIdEnd = r.pos;
        break;
      case 0x12:
        c.spanIdStart = r.skipBytes();
        c.spanIdEnd = r.pos;
        break;
      case 0x22:
        c.parentStart = r.skipBytes();
        c.parentEnd = r.pos;
        break;
      case 0x2a:
        c.nameStart = r.skipBytes();
        c.nameEnd = r.pos;
        break;
      case 0x30:
        c.kind = r.varint32() | 0;
        break;
      case 0x39:
        startLo = r.fixed32();
        startHi = r.fixed32();
        break;
      case 0x41:
        endLo = r.fixed32();
        endHi = r.fixed32();
        break;
      case 0x7a: {
        const outer = r.enter(r.length());
        while (r.more()) {
          const statusTag = r.tag();
          if (statusTag === 0x18) c.statusCode = r.varint32() | 0;
          else r.skip(statusTag);
        }
        r.leave(outer);
        break;
      }
      case 0x85: // field 16 (flags), fixed32
        c.flags = r.fixed32();
        break;
      default:
        r.skip(tag);
    }
  }
  c.startTimeUnixNano = startHi * 4294967296 + startLo;
  c.endTimeUnixNano = endHi * 4294967296 + endLo;
  c.durationNanos = (endHi - startHi) * 4294967296 + (endLo - startLo);
}
