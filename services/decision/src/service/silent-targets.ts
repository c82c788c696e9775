import type { TargetRef } from "@meshloop/contracts";

interface Known {
  readonly target: TargetRef;
  lastWindowEndMs: number;
  windowMs: number;
  /** The watermark it was last ticked at: once per window of watermark progress, not once per batch. */
  lastTickMs: number;
}

/**
 * The targets this instance has seen aggregates for, and the event-time watermark (the newest window end of any of
 * them). A target whose windows stopped while others' go on is silent: it is evaluated at the watermark without
 * windows, so its timeouts still fire (a canary without data rolls back; leases run out). Event time, never the wall
 * clock: a replay ticks exactly as the first run did, and when every target is silent (a telemetry outage) nothing
 * ticks, which is the pause the guardrails want then.
 */
export class SilentTargets {
  readonly #known = new Map<string, Known>();
  readonly #afterWindows: number;
  readonly #forgetAfterMs: number;
  #watermarkMs = 0;

  /** `afterWindows`: windows of silence before a target is ticked; `forgetAfterMs`: silent this long, forgotten. */
  constructor(afterWindows = 2, forgetAfterMs = 3_600_000) {
    this.#afterWindows = afterWindows;
    this.#forgetAfterMs = forgetAfterMs;
  }

  get watermarkMs(): number {
    return this.#watermarkMs;
  }

  seen(key: string, target: TargetRef, windowEndMs: number, windowMs: number): void {
    const known = this.#known.get(key);
    if (known === undefined) this.#known.set(key, { target, lastWindowEndMs: windowEndMs, windowMs, lastTickMs: 0 });
    else if (windowEndMs > known.lastWindowEndMs) {
      known.lastWindowEndMs = windowEndMs;
      known.windowMs = windowMs;
    }
    if (windowEndMs > this.#watermarkMs) this.#watermarkMs = windowEndMs;
  }

  /** The targets to tick at the watermark now (each once per window of progress); forgets the long-silent ones. */
  due(): TargetRef[] {
    const out: TargetRef[] = [];
    for (const [key, k] of this.#known) {
      const silence = this.#watermarkMs - k.lastWindowEndMs;
      if (silence > this.#forgetAfterMs) this.#known.delete(key);
      else if (silence >= this.#afterWindows * k.windowMs && this.#watermarkMs - k.lastTickMs >= k.windowMs) {
        k.lastTickMs = this.#watermarkMs;
        out.push(k.target);
      }
    }
    return out;
  }

  get size(): number {
    return this.#known.size;
  }
}
