import { isRetriable } from "./meshloop-error.ts";

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the second attempt; each later one doubles, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Decides whether an error is worth another attempt; by default the error's own `retriable` flag. */
  shouldRetry?: (error: unknown) => boolean;
  signal?: AbortSignal;
}

/**
 * Runs `operation` until it succeeds, a non-retriable error occurs, or attempts run out. Delays use full jitter
 * (a random wait between 0 and the exponential bound) so that many clients retrying at once spread out.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  if (!Number.isInteger(options.attempts) || options.attempts < 1) {
    throw new RangeError(`withRetry: attempts must be an integer >= 1, got ${options.attempts}`);
  }
  const shouldRetry = options.shouldRetry ?? isRetriable;
  let bound = options.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= options.attempts || !shouldRetry(error) || options.signal?.aborted) throw error;
      await sleep(Math.random() * bound, options.signal);
      bound = Math.min(bound * 2, options.maxDelayMs);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
