import assert from "node:assert/strict";
import { test } from "node:test";
import { connectionLimitsSchema, decisionSchema } from "@meshloop/contracts";
import type { Decision } from "@meshloop/contracts";
import { backpressureController, evaluateTarget, initialBackpressureState, initialGlobalState, initialTargetState, policyWith } from "../../src/index.ts";
import type { BackpressurePolicy } from "../../src/index.ts";
import { target, WINDOW_MS } from "../support/aggregates.ts";
import { fleetWindow, windowEnd } from "../support/fleet.ts";

const base = policyWith({ backpressure: { enabled: true } }).backpressure;

/** A window of `rps` requests per second at `p50Ms` each (10 s windows). */
function window(i: number, p50Ms: number, rps = 100) {
  return fleetWindow(i, [{ instance: "pod-0", requests: (rps * WINDOW_MS) / 1000, latencyMs: p50Ms }]);
}

interface Change {
  readonly i: number;
  readonly limit: number | null;
  readonly reason: string;
}

/** Latency per window index; every proposal is taken. */
function run(latency: readonly number[], policy: BackpressurePolicy = base) {
  let state = initialBackpressureState();
  const changes: Change[] = [];
  const reasons: string[] = [];
  latency.forEach((p50, i) => {
    const out = backpressureController(state, [window(i, p50)], policy, windowEnd(i));
    state = out.state;
    reasons.push(out.reason);
    if (out.proposal !== null) {
      assert.equal(out.proposal.kind, "backpressure");
      const limits = out.proposal.parts.connectionLimits ?? null;
      if (limits !== null) connectionLimitsSchema.parse(limits);
      changes.push({ i, limit: limits?.maxRequests ?? null, reason: out.reason });
    }
  });
  return { changes, state, reasons };
}

const repeat = (n: number, v: number) => Array.from({ length: n }, () => v);

test("saturation for saturatedWindows windows lowers the limits from the concurrency in flight (Little's law)", () => {
  const { changes } = run([...repeat(6, 20), ...repeat(4, 60)]);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.i, 8, "after three saturated windows");
  // 100 req/s x 60 ms = 6 in flight; gradient (1.25 x 20 / 60) clamps to 0.5: 0.5 x 6 + sqrt(3) = 4.7 -> 4.
  assert.equal(changes[0]!.limit, 4);
  assert.match(changes[0]!.reason, /lowering connection and request limits from about 6 in flight to 4/);
});

test("latency inside the dead band (p50 up to 1.25x the minimum) changes nothing", () => {
  const { changes } = run([...repeat(6, 20), ...repeat(10, 24)]);
  assert.equal(changes.length, 0);
});

test("at most one change per interval, however long the saturation", () => {
  const { changes, reasons } = run([...repeat(6, 20), ...repeat(12, 80)], { ...base, interval: 60_000 });
  assert.deepEqual(changes.map((c) => c.i), [8, 14], "the second lowering waits a minute");
  assert.ok(changes[1]!.limit! < changes[0]!.limit!);
  assert.ok(reasons.some((r) => /limits changed .* ago/.test(r)));
});

test("recovery raises the limits step by step and hands them back at maxLimit", () => {
  const policy = { ...base, interval: 10_000, maxLimit: 12, leaseTime: 3_600_000 };
  const { changes } = run([...repeat(6, 20), ...repeat(3, 60), ...repeat(20, 20)], policy);
  assert.equal(changes[0]!.limit, 4);
  const raises = changes.slice(1);
  assert.ok(raises.length >= 2, JSON.stringify(changes));
  for (let k = 1; k < raises.length - 1; k++) assert.ok(raises[k]!.limit! > raises[k - 1]!.limit!, "raising, never lowering while recovered");
  assert.equal(raises[raises.length - 1]!.limit, null, "handed back to the mesh");
  assert.match(raises[raises.length - 1]!.reason, /handing the limits back/);
});

test("a lease: limits set for a saturation that ended are handed back after leaseTime without new saturation", () => {
  const policy = { ...base, leaseTime: 60_000, recoveredWindows: 1000 };
  // Between the dead band and recovery (p50 1.2x minimum): neither saturated nor recovered.
  const { changes } = run([...repeat(6, 20), ...repeat(3, 60), ...repeat(8, 24)], policy);
  assert.deepEqual(changes.map((c) => [c.i, c.limit]), [[8, 4], [14, null]]);
  assert.match(changes[1]!.reason, /No saturation for 1 min/);
});

test("windows with too few requests are not judged", () => {
  let state = initialBackpressureState();
  for (let i = 0; i < 12; i++) {
    const out = backpressureController(state, [window(i, i < 6 ? 20 : 90, 5)], base, windowEnd(i));
    state = out.state;
    assert.equal(out.proposal, null);
  }
});

test("through evaluateTarget the limits are a valid decision of the backpressure controller", () => {
  let state = initialTargetState(target);
  const policy = policyWith({ backpressure: { enabled: true }, guardrails: { cooldown: "1s" } });
  let decision: Decision | null = null;
  [...repeat(6, 20), ...repeat(3, 60)].forEach((p50, i) => {
    const out = evaluateTarget(state, [window(i, p50)], policy, initialGlobalState());
    state = out.state;
    decision = out.decision ?? decision;
  });
  assert.ok(decision !== null);
  const parsed = decisionSchema.parse(decision);
  assert.deepEqual(parsed.controllers, ["backpressure"]);
  assert.equal(parsed.desiredState.connectionLimits?.maxConnections, 4);
  assert.ok(parsed.evidence.some((e) => e.metric === "gradient"));
});
