/**
 * A span's adjusted count: how many spans it stands for once sampling dropped the others (1 / sampling probability).
 * Counts and sketch insertions are weighted by it, so a 10% sampled service still shows its real request rate.
 *
 * Sources, first found wins:
 * 1. W3C `tracestate`, OpenTelemetry entry `ot`, sub-key `th` (OpenTelemetry "TraceState: Probability Sampling").
 *    `th` is the rejection threshold T, 1 to 14 lowercase hex digits giving the most significant digits of a 56-bit
 *    number (trailing zeros omitted: `th:8` is T = 0x80000000000000). A span is kept when its 56-bit randomness
 *    R >= T, so the probability is (2^56 - T) / 2^56 and the adjusted count 2^56 / (2^56 - T): `th:0` keeps all
 *    (1), `th:8` half (2), `th:c` a quarter (4), `th:fd70a4` about 1% (~100). A `th` that is not 1-14 hex digits is
 *    ignored, as the spec tells consumers to do. Sub-keys are `key:value` separated by `;`; `rv` (explicit
 *    randomness) does not change the adjusted count.
 *    The older experimental form `ot=p:<n>` (probability 2^-n, n in 0..62) is read too; `p:63` means "not sampled
 *    by probability" and, like a missing `th`, leaves the count unknown.
 * 2. Span attributes from samplers that do not write tracestate: `sampling.adjusted_count` (the count itself),
 *    `sampling.probability`, and Jaeger's `sampler.type = probabilistic` with `sampler.param` (a probability).
 * 3. Otherwise weight 1, and the series is marked `sampling: unknown`: with the default always-on sampler that is
 *    exact, with an unannounced sampler the counts are low by its factor.
 * Tail sampling after the SDK keeps errors and slow traces preferentially, so no weight can correct for it:
 * meshloop must be fed before any tail sampling.
 */

const TWO_POW_56 = 1n << 56n;
const THRESHOLD = /^[0-9a-f]{1,14}$/;
const P_VALUE = /^[0-9]{1,2}$/;

/** The adjusted count of an `ot` threshold `th` value, or undefined when it is not valid. */
export function thresholdAdjustedCount(th: string): number | undefined {
  if (!THRESHOLD.test(th)) return undefined;
  // 56 bits do not fit a double's 53; the subtraction is exact in BigInt, the division then rounds once.
  const threshold = BigInt(`0x${th.padEnd(14, "0")}`);
  return Number(TWO_POW_56) / Number(TWO_POW_56 - threshold);
}

/** The adjusted count a `tracestate` header value announces, or undefined when it announces none. */
export function tracestateAdjustedCount(tracestate: string): number | undefined {
  const ot = otEntry(tracestate);
  if (ot === undefined) return undefined;
  let legacy: number | undefined;
  for (const field of ot.split(";")) {
    const colon = field.indexOf(":");
    if (colon < 0) continue;
    const key = field.slice(0, colon);
    const value = field.slice(colon + 1);
    if (key === "th") return thresholdAdjustedCount(value);
    if (key === "p" && P_VALUE.test(value)) {
      const p = Number(value);
      if (p <= 62) legacy = 2 ** p;
    }
  }
  return legacy;
}

/** The value of the `ot` list member of a tracestate (list members are `key=value`, comma separated, OWS around). */
function otEntry(tracestate: string): string | undefined {
  for (const member of tracestate.split(",")) {
    const trimmed = member.trim();
    if (trimmed.startsWith("ot=")) return trimmed.slice(3);
  }
  return undefined;
}

export interface SamplingAttributes {
  adjustedCount?: number | string | boolean | undefined;
  probability?: number | string | boolean | undefined;
  samplerType?: number | string | boolean | undefined;
  samplerParam?: number | string | boolean | undefined;
}

/** The adjusted count sampling attributes announce, or undefined. */
export function attributeAdjustedCount(attributes: SamplingAttributes): number | undefined {
  const adjusted = numeric(attributes.adjustedCount);
  if (adjusted !== undefined && adjusted >= 1) return adjusted;
  const probability = numeric(attributes.probability);
  if (probability !== undefined && probability > 0 && probability <= 1) return 1 / probability;
  if (attributes.samplerType === "probabilistic") {
    const param = numeric(attributes.samplerParam);
    if (param !== undefined && param > 0 && param <= 1) return 1 / param;
  }
  return undefined;
}

function numeric(value: number | string | boolean | undefined): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Tracestate strings repeat (one per sampler configuration), so their parse is cached, within bounds. */
export class TracestateCache {
  private readonly cache = new Map<string, number>();
  private readonly limit: number;

  constructor(limit = 4096) {
    this.limit = limit;
  }

  /** The adjusted count, or 0 when the tracestate announces none. */
  adjustedCount(tracestate: string): number {
    let weight = this.cache.get(tracestate);
    if (weight === undefined) {
      weight = tracestateAdjustedCount(tracestate) ?? 0;
      if (this.cache.size >= this.limit) this.cache.clear();
      this.cache.set(tracestate, weight);
    }
    return weight;
  }
}
