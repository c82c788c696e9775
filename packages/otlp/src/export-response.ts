import { WireWriter } from "./wire-writer.ts";

/**
 * The bodies the ingest answers with. OTLP: full success is an empty Export*ServiceResponse; partial success sets
 * `partial_success` with the number rejected and a reason (also allowed with 0 rejected, as a warning). Errors
 * over OTLP/HTTP carry a google.rpc.Status in the request's encoding. JSON follows proto3 JSON: lowerCamelCase
 * keys, 64-bit integers as decimal strings.
 */

export type OtlpEncoding = "protobuf" | "json";

export interface TracePartialSuccess {
  readonly rejectedSpans: number;
  readonly errorMessage?: string | undefined;
}

export interface MetricsPartialSuccess {
  readonly rejectedDataPoints: number;
  readonly errorMessage?: string | undefined;
}

/** ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1 { int64 rejected_spans = 1; string error_message = 2 } } */
export function encodeTraceResponse(result: TracePartialSuccess, encoding: OtlpEncoding): Buffer {
  return encodePartialSuccess(result.rejectedSpans, result.errorMessage, "rejectedSpans", encoding);
}

/** ExportMetricsServiceResponse, the same shape with `rejected_data_points`. */
export function encodeMetricsResponse(result: MetricsPartialSuccess, encoding: OtlpEncoding): Buffer {
  return encodePartialSuccess(result.rejectedDataPoints, result.errorMessage, "rejectedDataPoints", encoding);
}

function encodePartialSuccess(rejected: number, errorMessage: string | undefined, key: string, encoding: OtlpEncoding): Buffer {
  if (!Number.isSafeInteger(rejected) || rejected < 0) {
    throw new RangeError(`the rejected count must be a non-negative integer, got ${rejected}`);
  }
  const message = errorMessage ?? "";
  const empty = rejected === 0 && message === "";
  if (encoding === "json") {
    if (empty) return Buffer.from("{}");
    const partial: Record<string, string> = {};
    if (rejected > 0) partial[key] = String(rejected);
    if (message !== "") partial.errorMessage = message;
    return Buffer.from(JSON.stringify({ partialSuccess: partial }));
  }
  if (empty) return Buffer.alloc(0);
  const w = new WireWriter(64 + message.length * 3);
  w.tag(1, 2);
  const mark = w.fork();
  if (rejected > 0) {
    w.tag(1, 0);
    w.varint(rejected);
  }
  if (message !== "") {
    w.tag(2, 2);
    w.string(message);
  }
  w.join(mark);
  return w.finish();
}

/**
 * google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }, the body
 * of an OTLP/HTTP error response (and the shape of a gRPC status). `code` is a gRPC code: 3 INVALID_ARGUMENT for
 * a malformed request, 8 RESOURCE_EXHAUSTED or 14 UNAVAILABLE for retriable refusals.
 */
export function encodeRpcStatus(code: number, message: string, encoding: OtlpEncoding = "protobuf"): Buffer {
  if (!Number.isInteger(code) || code < -0x80000000 || code > 0x7fffffff) {
    throw new RangeError(`a status code must be an int32, got ${code}`);
  }
  if (encoding === "json") return Buffer.from(JSON.stringify({ code, message }));
  const w = new WireWriter(32 + message.length * 3);
  if (code !== 0) {
    w.tag(1, 0);
    w.int64(code);
  }
  if (message !== "") {
    w.tag(2, 2);
    w.string(message);
  }
  return w.finish();
}
