import type { JsonObject } from "./json-values.ts";
import {
  arrayAt,
  JsonPath,
  objectAt,
  writeBase64,
  writeBool,
  writeDouble,
  writeEnum,
  writeFixed32,
  writeFixed64,
  writeHexId,
  writeInt64,
  writeString,
  writeUint32,
} from "./json-values.ts";
import { WireWriter } from "./wire-writer.ts";

/**
 * OTLP/JSON ExportTraceServiceRequest -> protobuf, so that the JSON path feeds the same splitter and Kafka consumers
 * read one format. Every field of the trace model is carried over (consumers must get what the client sent), in
 * field-number order. A field present in the JSON is written even when it holds its default value, which is also
 * what the OTel SDK's protobuf serializer does for counts and status codes, so SDK output converts byte for byte.
 * Unknown keys are ignored; a value of the wrong shape throws a ValidationError naming its JSON path.
 */

const SPAN_KINDS: ReadonlyMap<string, number> = new Map([
  ["SPAN_KIND_UNSPECIFIED", 0],
  ["SPAN_KIND_INTERNAL", 1],
  ["SPAN_KIND_SERVER", 2],
  ["SPAN_KIND_CLIENT", 3],
  ["SPAN_KIND_PRODUCER", 4],
  ["SPAN_KIND_CONSUMER", 5],
]);

const STATUS_CODES: ReadonlyMap<string, number> = new Map([
  ["STATUS_CODE_UNSET", 0],
  ["STATUS_CODE_OK", 1],
  ["STATUS_CODE_ERROR", 2],
]);

/** Arrays and kvlists nest; past this depth the input is hostile, not telemetry. */
const MAX_VALUE_DEPTH = 32;

export function encodeTraceRequestFromJson(json: unknown): Buffer {
  const path = new JsonPath();
  const request = objectAt(json, path);
  if (request === undefined) throw path.fail(undefined, "an object", json);
  const w = new WireWriter(16384);
  repeated(w, 1, request.resourceSpans, path, "resourceSpans", writeResourceSpans);
  return w.finish();
}

type MessageWriter = (w: WireWriter, message: JsonObject, path: JsonPath) => void;

/** A repeated message field: each element an object, written as a length-delimited field. */
function repeated(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, key: string, write: MessageWriter): void {
  const items = arrayAt(value, path, key);
  if (items.length === 0) return;
  path.push(key);
  for (let i = 0; i < items.length; i++) {
    path.push(i);
    const item = objectAt(items[i], path);
    w.tag(fieldNumber, 2);
    const mark = w.fork();
    if (item !== undefined) write(w, item, path);
    w.join(mark);
    path.pop();
  }
  path.pop();
}

/** A singular message field, written when present. */
function single(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, key: string, write: MessageWriter): void {
  const message = objectAt(value, path, key);
  if (message === undefined) return;
  path.push(key);
  w.tag(fieldNumber, 2);
  const mark = w.fork();
  write(w, message, path);
  w.join(mark);
  path.pop();
}

function writeResourceSpans(w: WireWriter, rs: JsonObject, path: JsonPath): void {
  single(w, 1, rs.resource, path, "resource", writeResource);
  repeated(w, 2, rs.scopeSpans, path, "scopeSpans", writeScopeSpans);
  writeString(w, 3, rs.schemaUrl, path, "schemaUrl");
}

function writeResource(w: WireWriter, resource: JsonObject, path: JsonPath): void {
  repeated(w, 1, resource.attributes, path, "attributes", writeKeyValue);
  writeUint32(w, 2, resource.droppedAttributesCount, path, "droppedAttributesCount");
}

function writeScopeSpans(w: WireWriter, ss: JsonObject, path: JsonPath): void {
  single(w, 1, ss.scope, path, "scope", writeScope);
  repeated(w, 2, ss.spans, path, "spans", writeSpan);
  writeString(w, 3, ss.schemaUrl, path, "schemaUrl");
}

function writeScope(w: WireWriter, scope: JsonObject, path: JsonPath): void {
  writeString(w, 1, scope.name, path, "name");
  writeString(w, 2, scope.version, path, "version");
  repeated(w, 3, scope.attributes, path, "attributes", writeKeyValue);
  writeUint32(w, 4, scope.droppedAttributesCount, path, "droppedAttributesCount");
}

function writeSpan(w: WireWriter, span: JsonObject, path: JsonPath): void {
  writeHexId(w, 1, span.traceId, path, "traceId");
  writeHexId(w, 2, span.spanId, path, "spanId");
  writeString(w, 3, span.traceState, path, "traceState");
  writeHexId(w, 4, span.parentSpanId, path, "parentSpanId");
  writeString(w, 5, span.name, path, "name");
  writeEnum(w, 6, span.kind, SPAN_KINDS, path, "kind");
  writeFixed64(w, 7, span.startTimeUnixNano, path, "startTimeUnixNano");
  writeFixed64(w, 8, span.endTimeUnixNano, path, "endTimeUnixNano");
  repeated(w, 9, span.attributes, path, "attributes", writeKeyValue);
  writeUint32(w, 10, span.droppedAttributesCount, path, "droppedAttributesCount");
  repeated(w, 11, span.events, path, "events", writeEvent);
  writeUint32(w, 12, span.droppedEventsCount, path, "droppedEventsCount");
  repeated(w, 13, span.links, path, "links", writeLink);
  writeUint32(w, 14, span.droppedLinksCount, path, "droppedLinksCount");
  single(w, 15, span.status, path, "status", writeStatus);
  writeFixed32(w, 16, span.flags, path, "flags");
}

function writeEvent(w: WireWriter, event: JsonObject, path: JsonPath): void {
  writeFixed64(w, 1, event.timeUnixNano, path, "timeUnixNano");
  writeString(w, 2, event.name, path, "name");
  repeated(w, 3, event.attributes, path, "attributes", writeKeyValue);
  writeUint32(w, 4, event.droppedAttributesCount, path, "droppedAttributesCount");
}

function writeLink(w: WireWriter, link: JsonObject, path: JsonPath): void {
  writeHexId(w, 1, link.traceId, path, "traceId");
  writeHexId(w, 2, link.spanId, path, "spanId");
  writeString(w, 3, link.traceState, path, "traceState");
  repeated(w, 4, link.attributes, path, "attributes", writeKeyValue);
  writeUint32(w, 5, link.droppedAttributesCount, path, "droppedAttributesCount");
  writeFixed32(w, 6, link.flags, path, "flags");
}

function writeStatus(w: WireWriter, status: JsonObject, path: JsonPath): void {
  writeString(w, 2, status.message, path, "message");
  writeEnum(w, 3, status.code, STATUS_CODES, path, "code");
}

function writeKeyValue(w: WireWriter, kv: JsonObject, path: JsonPath): void {
  writeString(w, 1, kv.key, path, "key");
  writeValueField(w, 2, kv.value, path, "value", 0);
}

/** An AnyValue field; always written when present, since an empty AnyValue differs from a missing one. */
function writeValueField(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, key: string, depth: number): void {
  const any = objectAt(value, path, key);
  if (any === undefined) return;
  path.push(key);
  w.tag(fieldNumber, 2);
  const mark = w.fork();
  writeAnyValue(w, any, path, depth);
  w.join(mark);
  path.pop();
}

function writeAnyValue(w: WireWriter, any: JsonObject, path: JsonPath, depth: number): void {
  if (depth > MAX_VALUE_DEPTH) throw path.invalid(undefined, `arrays and kvlists nest deeper than ${MAX_VALUE_DEPTH}`);
  let variants = 0;
  if (any.stringValue != null) {
    variants++;
    writeString(w, 1, any.stringValue, path, "stringValue");
  }
  if (any.boolValue != null) {
    variants++;
    writeBool(w, 2, any.boolValue, path, "boolValue");
  }
  if (any.intValue != null) {
    variants++;
    writeInt64(w, 3, any.intValue, path, "intValue");
  }
  if (any.doubleValue != null) {
    variants++;
    writeDouble(w, 4, any.doubleValue, path, "doubleValue");
  }
  if (any.arrayValue != null) {
    variants++;
    const array = objectAt(any.arrayValue, path, "arrayValue")!;
    path.push("arrayValue");
    w.tag(5, 2);
    const mark = w.fork();
    const values = arrayAt(array.values, path, "values");
    path.push("values");
    for (let i = 0; i < values.length; i++) {
      path.push(i);
      const item = objectAt(values[i], path);
      w.tag(1, 2);
      const itemMark = w.fork();
      if (item !== undefined) writeAnyValue(w, item, path, depth + 1);
      w.join(itemMark);
      path.pop();
    }
    path.pop();
    w.join(mark);
    path.pop();
  }
  if (any.kvlistValue != null) {
    variants++;
    const list = objectAt(any.kvlistValue, path, "kvlistValue")!;
    path.push("kvlistValue");
    w.tag(6, 2);
    const mark = w.fork();
    repeated(w, 1, list.values, path, "values", (inner, kv, p) => {
      writeString(inner, 1, kv.key, p, "key");
      writeValueField(inner, 2, kv.value, p, "value", depth + 1);
    });
    w.join(mark);
    path.pop();
  }
  if (any.bytesValue != null) {
    variants++;
    writeBase64(w, 7, any.bytesValue, path, "bytesValue");
  }
  if (variants > 1) throw path.invalid(undefined, `an AnyValue holds one value, this one ${variants}`);
}
