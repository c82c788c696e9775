import assert from "node:assert/strict";
import { test } from "node:test";
import { canaryController, initialCanaryState, policyWith } from "../../src/index.ts";
import { learnBaseline, LEARN_MAX_REQUESTS, LEARN_MIN_WINDOWS } from "../../src/controllers/baseline.ts";
import { windowViews } from "../../src/windows.ts";
import { T0, WINDOW_MS, windowAggregate } from "../support/aggregates.ts";

const view = (i: number, versions: Record<string, number>) =>
  windowViews([windowAggregate({ startMs: T0 + i * WINDOW_MS, versions: Object.fromEntries(Object.entries(versions).map(([v, requests]) => [v, { requests, errors: 0 }])) })])[0]!;

test("a baseline is learned only once its lead is not chance (sign test z >= 3), counted across windows", () => {
  // A first window of a handful of requests, led by the version that is in fact the smaller one.
  let learned = learnBaseline(null, view(0, { v1: 2, v2: 3 }));
  assert.equal(learned.baseline, null);
  assert.deepEqual(learned.counted, { tally: { v1: 2, v2: 3 }, windows: 1, sinceMs: T0 });
  // Then a 60/40 split: 48 and 32 a window. (a - b)^2 / (a + b) is 2.6, 5.8, then 9.02: the third of them decides.
  const baselines: (string | null)[] = [];
  for (let i = 1; i <= 3; i++) {
    learned = learnBaseline(learned.counted, view(i, { v1: 48, v2: 32 }));
    baselines.push(learned.baseline);
  }
  assert.deepEqual(baselines, [null, null, "v1"]);
  assert.deepEqual(learned.counted?.tally, { v1: 146, v2: 99 });
  const lead = learned.evidence.find((e) => e.metric === "baseline lead");
  assert.equal(lead?.comparison, ">=");
  assert.deepEqual(lead?.window, { startMs: T0, endMs: T0 + 4 * WINDOW_MS });
  assert.deepEqual(learned.evidence.filter((e) => e.metric.startsWith("requests ")).map((e) => [e.metric, e.value]), [["requests v1", 146], ["requests v2", 99]]);
  // An even split never passes; past the cap the leader is taken, equal counts by name.
  const even = (n: number) => ({ tally: { v1: n, v2: n }, windows: 20, sinceMs: T0 });
  assert.equal(learnBaseline(even(999), view(0, { v1: 1, v2: 1 })).baseline, "v1");
  assert.equal(LEARN_MAX_REQUESTS, 2_000);
  assert.equal(learnBaseline(even(900), view(0, { v1: 10, v2: 11 })).baseline, null);
});

test("one version alone is the baseline after a few windows, not after one, however busy", () => {
  let learned = learnBaseline(null, view(0, { v1: 500 }));
  assert.equal(learned.baseline, null);
  learned = learnBaseline(learned.counted, view(1, { v1: 500 }));
  assert.equal(learned.baseline, null);
  learned = learnBaseline(learned.counted, view(2, { v1: 500 }));
  assert.equal(learned.baseline, "v1");
  assert.equal(LEARN_MIN_WINDOWS, 3);
  // A window without requests is not a window counted.
  assert.equal(learnBaseline({ tally: { v1: 10 }, windows: 2, sinceMs: T0 }, view(3, {})).baseline, null);
});

test("a version whose telemetry starts a window late does not lose to the one that started first", () => {
  // CI's case: the first window a restarted decision read held 10 requests of v2 and none yet of v1 (v1's exporters'
  // first batch came later), which passes a sign test on its own; then the real 60/40 split in v1's favour.
  let learned = learnBaseline(null, view(0, { v2: 10 }));
  const seen: (string | null)[] = [];
  for (let i = 1; i <= 4; i++) {
    learned = learnBaseline(learned.counted, view(i, { v1: 49, v2: 32 }));
    seen.push(learned.baseline);
  }
  // v1's arrival starts the count over: the v2-only window is not compared with anything.
  assert.deepEqual(seen, [null, null, "v1", "v1"]);
  assert.deepEqual(learned.counted?.tally, { v1: 196, v2: 128 });
});

test("thin traffic alternating between two versions does not start the count over at every window", () => {
  let learned = learnBaseline(null, view(0, { v1: 1 }));
  learned = learnBaseline(learned.counted, view(1, { v2: 1 }));
  assert.deepEqual(learned.counted, { tally: { v1: 0, v2: 1 }, windows: 1, sinceMs: T0 + WINDOW_MS });
  for (let i = 2; i < 8; i++) learned = learnBaseline(learned.counted, view(i, i % 2 === 0 ? { v1: 1 } : { v2: 1 }));
  assert.equal(learned.counted?.windows, 7);
});

test("the canary controller does not take the leader of one thin window as the baseline", () => {
  const policy = policyWith({ canary: { enabled: true } }).canary;
  const windows = [{ v1: 1, v2: 3 }, { v1: 60, v2: 40 }, { v1: 60, v2: 40 }, { v1: 60, v2: 40 }].map((versions, i) =>
    windowAggregate({ startMs: T0 + i * WINDOW_MS, versions: Object.fromEntries(Object.entries(versions).map(([v, requests]) => [v, { requests, errors: 0 }])) }),
  );
  const thin = canaryController(initialCanaryState(), windows.slice(0, 1), policy, T0 + WINDOW_MS);
  assert.equal(thin.proposal, null);
  assert.equal(thin.state.baseline, null);
  assert.match(thin.reason, /learning the baseline: requests v1 1, v2 3 over 1 window/);
  const out = canaryController(thin.state, windows.slice(1), policy, T0 + 4 * WINDOW_MS);
  assert.equal(out.state.baseline, "v1");
  assert.equal(out.state.learning, null);
  assert.match(out.reason, /New version v2 detected; pinning v1 at 100% before v2 gets any traffic; v1 is the baseline \(requests v1 181, v2 123 over 4 windows\)/);
  assert.deepEqual(out.evidence.map((e) => e.metric), ["requests v1", "requests v2", "baseline lead"]);
  assert.deepEqual(out.proposal?.parts.weights, { v1: 100, v2: 0 });
});
