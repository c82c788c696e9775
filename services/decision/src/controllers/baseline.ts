import type { WindowView } from "../windows.ts";

/**
 * Which version is the baseline when the canary controller has none (first sight of a target, or its baseline
 * stopped serving): the version serving most, once it leads clearly. One window is not enough: a window at the
 * start of traffic (or the first one read after a restart) may hold a handful of requests, and the version that
 * happens to lead it would become the baseline and the real baseline would be canaried against it. So requests are
 * counted per version across windows until the leader's lead passes a sign test at z >= 3 over the runner-up
 * (under a 60/40 split that takes about 225 requests), or, for versions too evenly split for that, until
 * `LEARN_MAX_REQUESTS` have been counted.
 */

/** (a - b)^2 / (a + b) >= Z^2: the leader serving a than the runner-up's b is not chance, at z = 3. */
const SIGN_TEST_Z2 = 9;
/** Evenly split versions never pass the sign test; past this many requests the leader is taken as it stands. */
export const LEARN_MAX_REQUESTS = 2_000;

export interface BaselineLearning {
  /** The requests counted so far per version, the view's included. */
  readonly tally: Readonly<Record<string, number>>;
  /** The baseline once learned; null while still counting. */
  readonly baseline: string | null;
}

export function learnBaseline(tally: Readonly<Record<string, number>> | null | undefined, view: WindowView): BaselineLearning {
  const next: Record<string, number> = { ...tally };
  for (const [version, totals] of view.versions) if (totals.requests > 0) next[version] = (next[version] ?? 0) + totals.requests;
  // Most requests first; equal counts by name, so the choice is reproducible.
  const ranked = Object.entries(next).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const [first, second] = ranked;
  if (first === undefined) return { tally: next, baseline: null };
  const a = first[1];
  const b = second?.[1] ?? 0;
  const clear = a > b && (a - b) ** 2 / (a + b) >= SIGN_TEST_Z2;
  return { tally: next, baseline: clear || a + b >= LEARN_MAX_REQUESTS ? first[0] : null };
}
