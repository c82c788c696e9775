import { deadTimeMs } from "../guardrails/limits.ts";

const SAMPLES = 256;
/** A high quantile, not the maximum: one stalled batch should not double every cooldown for the next hour. */
const QUANTILE = 0.9;

/** A fixed ring of the newest samples, read as a quantile. */
class RecentSamples {
  readonly #values = new Float64Array(SAMPLES);
  #count = 0;
  #next = 0;

  add(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % SAMPLES;
    if (this.#count < SAMPLES) this.#count++;
  }

  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const sorted = this.#values.slice(0, this.#count).sort();
    return sorted[Math.min(this.#count - 1, Math.floor(q * this.#count))]!;
  }
}

/**
 * The loop's dead time, measured rather than configured: from a change to the first window that can show its
 * effect. Two parts are measured here: input delay (an aggregate's arrival minus its window's end: the aggregator's
 * lateness, completeness wait and transport) and actuation delay (a decision's publication to its applied result);
 * the window length comes with the aggregates and the propagation delay is configured.
 */
export class DeadTimeMeter {
  readonly #input = new RecentSamples();
  readonly #actuation = new RecentSamples();
  readonly #published = new Map<string, number>();
  readonly #propagationMs: number;
  #windowMs = 0;

  constructor(propagationMs: number) {
    this.#propagationMs = propagationMs;
  }

  aggregateArrived(windowEndMs: number, windowMs: number, arrivedAtMs: number): number {
    const delay = Math.max(0, arrivedAtMs - windowEndMs);
    this.#input.add(delay);
    this.#windowMs = Math.max(this.#windowMs, windowMs);
    return delay;
  }

  decisionPublished(decisionId: string, atMs: number): void {
    this.#published.set(decisionId, atMs);
    // Results for decisions of other instances never come here; keep the map bounded.
    if (this.#published.size > 10_000) this.#published.delete(this.#published.keys().next().value!);
  }

  /** The actuation delay of a decision this instance published, or null. */
  actuationObserved(decisionId: string, atMs: number): number | null {
    const published = this.#published.get(decisionId);
    if (published === undefined) return null;
    this.#published.delete(decisionId);
    const delay = Math.max(0, atMs - published);
    this.#actuation.add(delay);
    return delay;
  }

  /** Window + input delay + actuation delay + propagation, in milliseconds. */
  deadTimeMs(): number {
    return deadTimeMs({
      windowMs: this.#windowMs,
      latenessMs: 0,
      completenessWaitMs: this.#input.quantile(QUANTILE),
      actuationMs: this.#actuation.quantile(QUANTILE),
      propagationMs: this.#propagationMs,
    });
  }
}
