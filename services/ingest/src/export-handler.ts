import { gunzip } from "node:zlib";
import { promisify } from "node:util";
import { UnavailableError, ValidationError } from "@meshloop/errors";
import type { OtlpEncoding } from "@meshloop/otlp";
import {
  encodeMetricsResponse,
  encodeTraceRequestFromJson,
  encodeTraceResponse,
  extractResourceGauges,
  extractResourceGaugesFromJson,
} from "@meshloop/otlp";
import type { Reservation } from "./inflight.ts";
import type { Signal } from "./ingest-metrics.ts";
import type { IngestPipeline } from "./pipeline.ts";

const gunzipAsync = promisify(gunzip);

/** Why a request was refused, independent of protocol; each receiver maps it to its status codes. */
export type Refusal =
  | { kind: "bad_request"; message: string }
  | { kind: "too_large"; message: string }
  | { kind: "throttled"; message: string }
  | { kind: "unavailable"; message: string };

/** A stored export: how many items were rejected as invalid, and the OTLP response that says so. */
export interface ExportOutcome {
  readonly rejected: number;
  response(encoding: OtlpEncoding): Buffer;
}

export class RefusedError extends Error {
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(refusal.message);
    this.refusal = refusal;
  }
}

/**
 * The protocol-independent part of an export: inflate, decode what the encoding needs, hand to the pipeline.
 * Receivers read bytes and write answers; everything in between is here, so HTTP and gRPC behave the same.
 */
export class ExportHandler {
  readonly #pipeline: IngestPipeline;
  readonly #maxBodyBytes: number;

  constructor(pipeline: IngestPipeline, maxBodyBytes: number) {
    this.#pipeline = pipeline;
    this.#maxBodyBytes = maxBodyBytes;
  }

  get maxBodyBytes(): number {
    return this.#maxBodyBytes;
  }

  /** Inflates a gzip body, stopping at the size limit so a small bomb cannot become gigabytes. */
  async inflate(body: Buffer, reservation: Reservation): Promise<Buffer> {
    let inflated: Buffer;
    try {
      inflated = await gunzipAsync(body, { maxOutputLength: this.#maxBodyBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) {
        throw new RefusedError({ kind: "too_large", message: `body inflates to more than ${this.#maxBodyBytes} bytes` });
      }
      throw new RefusedError({ kind: "bad_request", message: `body is not valid gzip: ${(error as Error).message}` });
    }
    if (!reservation.tryGrow(inflated.length)) {
      throw new RefusedError({ kind: "throttled", message: "the ingest is at its in-flight limit; retry later" });
    }
    return inflated;
  }

  async export(
    signal: Signal,
    encoding: OtlpEncoding,
    body: Buffer,
    reservation: Reservation,
  ): Promise<ExportOutcome> {
    const receivedAtMs = Date.now();
    try {
      if (signal === "traces") {
        const protobuf = encoding === "json" ? encodeTraceRequestFromJson(parseJson(body)) : body;
        const result = await this.#pipeline.exportTraces(protobuf, receivedAtMs, reservation);
        return { rejected: result.rejectedSpans, response: (as) => encodeTraceResponse(result, as) };
      }
      const gauges = encoding === "json" ? extractResourceGaugesFromJson(parseJson(body)) : extractResourceGauges(body);
      const result = await this.#pipeline.exportGauges(gauges, receivedAtMs, reservation);
      return { rejected: result.rejectedDataPoints, response: (as) => encodeMetricsResponse(result, as) };
    } catch (error) {
      if (error instanceof ValidationError) throw new RefusedError({ kind: "bad_request", message: error.message });
      if (error instanceof UnavailableError) throw new RefusedError({ kind: "unavailable", message: error.message });
      throw error;
    }
  }
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new ValidationError(`body is not valid JSON: ${(error as Error).message}`);
  }
}
