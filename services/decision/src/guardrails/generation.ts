/**
 * Generations: strictly increasing per target, and derived from event time so they keep increasing after the state
 * store is wiped. generation = windowEndMs x 1000 + sequence: a later window always gives a larger one, and several
 * decisions for the same window end (an approval, a release) take the next sequence numbers. A wiped store starts
 * again from the event time of the window being processed, which is above every generation published for earlier
 * windows as long as fewer than 1000 decisions shared one window end (a window is seconds long, decisions are
 * rate-limited to a few per minute). At epoch milliseconds around 1.7e12 this stays below 2^53.
 */
export const SEQUENCE_SPAN = 1000;

export function nextGeneration(lastGeneration: number, windowEndMs: number): number {
  return Math.max(lastGeneration + 1, windowEndMs * SEQUENCE_SPAN);
}

/** The window end a generation was derived from (for logs and for checking a restored state). */
export function generationWindowEnd(generation: number): number {
  return Math.floor(generation / SEQUENCE_SPAN);
}
