import assert from "node:assert/strict";
import { test } from "node:test";
import { canaryController, initialCanaryState, policyWith } from "../../src/index.ts";
import { learnBaseline, LEARN_MAX_REQUESTS } from "../../src/controllers/baseline.ts";
import { windowViews } from "../../src/windows.ts";
import { T0, WINDOW_MS, windowAggregate } from "../support/aggregates.ts";

const view = (i: number, versions: Record<string, number>) =>
  windowViews([windowAggregate({ startMs: T0 + i * WINDOW_MS, versions: Object.fromEntries(Object.entries(versions).map(([v, requests]) => [v, { requests, errors: 0 }])) })])[0]!;

test("a baseline is learned only once its lead is not chance (sign test z >= 3), counted across windows", () => {
  // A first window of a handful of requests, led by the version that is in fact the smaller one.
  let learned = learnBaseline(null, view(0, { v1: 2, v2: 3 }));
  assert.equal(learned.baseline, null);
  assert.deepEqual(learned.tally, { v1: 2, v2: 3 });
  // Then a 60/40 split: 48 and 32 a window. (a - b)^2 / (a + b) is 2.6, 5.8, then 9.02: the
  // third of them decides.
  const baselines: (string | null)[] = [];
  for (let i = 1; i <= 3; i++) {
    learned = learnBaseline(learned.tally, view(i, { v1: 48, v2: 32 }));
    baselines.push(learned.baseline);
  }
  assert.deepEqual(baselines, [null, null, "v1"]);
  // One version alone: nine requests are enough.
  assert.equal(learnBaseline(null, view(0, { v1: 8 })).baseline, null);
  assert.equal(learnBaseline(null, view(0, { v1: 9 })).baseline, "v1");
  // An even split never passes; past the cap the leader is taken, equal counts by name.
  assert.equal(learnBaseline({ v1: 999, v2: 999 }, view(0, { v1: 1, v2: 1 })).baseline, "v1");
  assert.equal(LEARN_MAX_REQUESTS, 2_000);
  assert.equal(learnBaseline({ v1: 900, v2: 900 }, view(0, { v1: 10, v2: 11 })).baseline, null);
});

test("the canary controller does not take the leader of one thin window as the baseline", () => {
  const policy = policyWith({ canary: { enabled: true } }).canary;
  const windows = [{ v1: 1, v2: 3 }, { v1: 60, v2: 40 }, { v1: 60, v2: 40 }, { v1: 60, v2: 40 }].map((versions, i) =>
    windowAggregate({ startMs: T0 + i * WINDOW_MS, versions: Object.fromEntries(Object.entries(versions).map(([v, requests]) => [v, { requests, errors: 0 }])) }),
  );
  const thin = canaryController(initialCanaryState(), windows.slice(0, 1), policy, T0 + WINDOW_MS);
  assert.equal(thin.proposal, null);
  assert.equal(thin.state.baseline, null);
  assert.match(thin.reason, /learning the baseline: requests so far v1 1, v2 3/);
  const out = canaryController(thin.state, windows.slice(1), policy, T0 + 4 * WINDOW_MS);
  assert.equal(out.state.baseline, "v1");
  assert.equal(out.state.learning, null);
  assert.match(out.reason, /New version v2 detected; pinning v1 at 100%/);
  assert.deepEqual(out.proposal?.parts.weights, { v1: 100, v2: 0 });
});
