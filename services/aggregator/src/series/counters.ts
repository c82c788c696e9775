import type { SeriesCounters } from "@meshloop/contracts";
import type { SketchOptions } from "../sketch/ddsketch.ts";
import { DDSketch } from "../sketch/ddsketch.ts";

/** Response classes of one span as bits, so that a span's classes are one number (see classify.ts). */
export const STATUS_2XX = 1;
export const STATUS_3XX = 2;
export const STATUS_4XX = 4;
export const STATUS_401 = 8;
export const STATUS_403 = 16;
export const STATUS_5XX = 32;
export const STATUS_GRPC_ERROR = 64;

/**
 * The counters of one series in one window (requests, errors, response classes, latency), weighted by the spans'
 * adjusted counts. Everything adds, so partials of the same series from different partitions merge exactly.
 */
export class Counters {
  requests = 0;
  errors = 0;
  s2xx = 0;
  s3xx = 0;
  s4xx = 0;
  s401 = 0;
  s403 = 0;
  s5xx = 0;
  grpcErrors = 0;
  /** Some span had no usable sampling information and counted as 1. */
  samplingUnknown = false;
  readonly latency: DDSketch;

  constructor(sketch: SketchOptions) {
    this.latency = new DDSketch(sketch);
  }

  add(weight: number, latencyMs: number, status: number, error: boolean, samplingKnown: boolean): void {
    this.requests += weight;
    if (error) this.errors += weight;
    if (status !== 0) {
      if (status & STATUS_2XX) this.s2xx += weight;
      if (status & STATUS_3XX) this.s3xx += weight;
      if (status & STATUS_4XX) this.s4xx += weight;
      if (status & STATUS_401) this.s401 += weight;
      if (status & STATUS_403) this.s403 += weight;
      if (status & STATUS_5XX) this.s5xx += weight;
      if (status & STATUS_GRPC_ERROR) this.grpcErrors += weight;
    }
    if (!samplingKnown) this.samplingUnknown = true;
    this.latency.add(latencyMs, weight);
  }

  merge(other: Counters): void {
    this.requests += other.requests;
    this.errors += other.errors;
    this.s2xx += other.s2xx;
    this.s3xx += other.s3xx;
    this.s4xx += other.s4xx;
    this.s401 += other.s401;
    this.s403 += other.s403;
    this.s5xx += other.s5xx;
    this.grpcErrors += other.grpcErrors;
    this.samplingUnknown ||= other.samplingUnknown;
    this.latency.merge(other.latency);
  }

  addWire(wire: SeriesCounters): void {
    this.requests += wire.requests;
    this.errors += wire.errors;
    const s = wire.status;
    this.s2xx += s["2xx"];
    this.s3xx += s["3xx"];
    this.s4xx += s["4xx"];
    this.s401 += s["401"];
    this.s403 += s["403"];
    this.s5xx += s["5xx"];
    this.grpcErrors += s.grpcErrors;
    this.samplingUnknown ||= wire.sampling === "unknown";
    this.latency.addWire(wire.latency);
  }

  toWire(): SeriesCounters {
    return {
      requests: this.requests,
      errors: this.errors,
      status: {
        "2xx": this.s2xx,
        "3xx": this.s3xx,
        "4xx": this.s4xx,
        "401": this.s401,
        "403": this.s403,
        "5xx": this.s5xx,
        grpcErrors: this.grpcErrors,
      },
      latency: this.latency.toWire(),
      sampling: this.samplingUnknown ? "unknown" : "known",
    };
  }

  static fromWire(wire: SeriesCounters, sketch: SketchOptions): Counters {
    const counters = new Counters(sketch);
    counters.addWire(wire);
    return counters;
  }
}
