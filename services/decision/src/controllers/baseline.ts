import type { Evidence } from "@meshloop/contracts";
import type { WindowView } from "../windows.ts";

/**
 * Which version is the baseline when the canary controller has none (first sight of a target, or its baseline
 * stopped serving): the version serving most, once it leads clearly. Requests are counted per version across windows
 * until the leader's lead passes a sign test at z >= 3 over the runner-up (under a 60/40 split that takes about 225
 * requests), or, for versions too evenly split for that, until `LEARN_MAX_REQUESTS` have been counted.
 *
 * A sign test assumes every request could have gone to either version, which the first windows break: a window at the
 * start of traffic (or the first one a restarted decision replays) holds a handful of requests, and one version's
 * telemetry often starts a window or two after the other's (its exporters' first batch came later). A thin first
 * window with 10 requests of v2 and none yet of v1 passes the test on its own, and v1, the real baseline, would be
 * canaried against v2 (the likely cause of a CI failure: inferred from the outcome, the logs were at warn). So the count starts over when a version shows up that it has not seen, and a
 * baseline is taken only after `LEARN_MIN_WINDOWS` windows with requests.
 */

/** (a - b)^2 / (a + b) >= Z^2: the leader serving a than the runner-up's b is not chance, at z = 3. */
const SIGN_TEST_Z2 = 9;
/** Evenly split versions never pass the sign test; past this many requests the leader is taken as it stands. */
export const LEARN_MAX_REQUESTS = 2_000;
/** Windows with requests a baseline is learned over, at least: the first of them is usually partial. */
export const LEARN_MIN_WINDOWS = 3;

export interface LearningTally {
  /** Requests per version since the count (re)started. */
  readonly tally: Readonly<Record<string, number>>;
  /** Windows with requests counted. */
  readonly windows: number;
  /** Start of the first window counted. */
  readonly sinceMs: number;
}

export interface BaselineLearning {
  /** The count so far, this view's included (null before any request): kept while the baseline is unknown. */
  readonly counted: LearningTally | null;
  /** The baseline once learned; null while still counting. */
  readonly baseline: string | null;
  /** Why the baseline is the one it is: each version's requests over the counted windows; empty while counting. */
  readonly evidence: Evidence[];
}

export function learnBaseline(previous: LearningTally | null | undefined, view: WindowView): BaselineLearning {
  let counted = previous ?? null;
  let fresh = false;
  for (const [version, totals] of view.versions) if (totals.requests > 0 && counted?.tally[version] === undefined) fresh = true;
  // A version not counted before: what was counted without it is no comparison. The versions stay known (at 0), so
  // that thin traffic alternating between them does not start over at every window.
  const tally: Record<string, number> = fresh ? Object.fromEntries(Object.keys(counted?.tally ?? {}).map((v) => [v, 0])) : { ...counted?.tally };
  if (fresh) counted = null;
  let any = false;
  for (const [version, totals] of view.versions) {
    if (totals.requests <= 0) continue;
    tally[version] = (tally[version] ?? 0) + totals.requests;
    any = true;
  }
  if (!any) return { counted, baseline: null, evidence: [] };
  const learning: LearningTally = { tally, windows: (counted?.windows ?? 0) + 1, sinceMs: counted?.sinceMs ?? view.startMs };
  // Most requests first; equal counts by name, so the choice is reproducible.
  const ranked = Object.entries(tally).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const [first, second] = ranked;
  const a = first![1];
  const b = second?.[1] ?? 0;
  const score = (a - b) ** 2 / (a + b);
  const clear = a > b && score >= SIGN_TEST_Z2;
  if (learning.windows < LEARN_MIN_WINDOWS || !(clear || a + b >= LEARN_MAX_REQUESTS)) return { counted: learning, baseline: null, evidence: [] };
  const window = { startMs: learning.sinceMs, endMs: view.endMs };
  const evidence: Evidence[] = ranked.map(([version, requests]) => ({
    metric: `requests ${version}`,
    value: requests,
    window,
    note: `counted over ${learning.windows} windows while learning the baseline`,
  }));
  evidence.push({
    metric: "baseline lead",
    value: Math.round(score * 100) / 100,
    threshold: SIGN_TEST_Z2,
    comparison: clear ? ">=" : "<",
    window,
    statistic: "sign-test-z2",
    ...(clear ? {} : { note: `versions too evenly split; the leader is taken after ${LEARN_MAX_REQUESTS} requests` }),
  });
  return { counted: learning, baseline: first![0], evidence };
}

/** "requests v1 120, v2 80 over 3 windows", for the controller's reasons. */
export function describeTally(learning: LearningTally): string {
  const counted = Object.entries(learning.tally).map(([v, n]) => `${v} ${n}`).join(", ");
  return `requests ${counted} over ${learning.windows} window${learning.windows === 1 ? "" : "s"}`;
}
