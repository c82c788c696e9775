// Property tests (fast-check) of the guardrails' invariants over random traffic, gaps, replays and operator commands.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decisionSchema } from "@meshloop/contracts";
import type { ControlCommand, Decision, WindowAggregate } from "@meshloop/contracts";
import {
  applyControl,
  effectiveCooldownMs,
  ejectionController,
  evaluateTarget,
  initialEjectionState,
  initialGlobalState,
  initialTargetState,
  normalizeWeights,
  policyWith,
  recordActuation,
} from "../src/index.ts";
import type { EjectionSettings, GlobalState, TargetState } from "../src/index.ts";
import { instancesWindow, T0, target, WINDOW_MS } from "./support/aggregates.ts";

test("weights always sum to 100, are whole percents, and respect their floors", () => {
  const versions = fc.uniqueArray(fc.constantFrom("v1", "v2", "v3", "v4", "v5", "v6"), { minLength: 1, maxLength: 6 });
  const arbitrary = versions.chain((names) =>
    fc.record({
      shares: fc.tuple(...names.map(() => fc.oneof(fc.double({ min: -10, max: 1000, noNaN: true }), fc.integer({ min: 0, max: 100 })))),
      floors: fc.tuple(...names.map(() => fc.integer({ min: 0, max: Math.floor(100 / names.length) }))),
      names: fc.constant(names),
    }),
  );
  fc.assert(
    fc.property(arbitrary, ({ names, shares, floors }) => {
      const asked = Object.fromEntries(names.map((n, i) => [n, shares[i]!]));
      const floor = Object.fromEntries(names.map((n, i) => [n, floors[i]!]));
      const weights = normalizeWeights(asked, floor);
      assert.equal(Object.values(weights).reduce((a, b) => a + b, 0), 100);
      for (const n of names) {
        assert.ok(Number.isInteger(weights[n]) && weights[n]! >= 0 && weights[n]! <= 100);
        assert.ok(weights[n]! >= floor[n]!, `${n}: ${weights[n]} below its floor ${floor[n]}`);
      }
    }),
    { numRuns: 500 },
  );
});

const instanceArb = fc.record({
  requests: fc.integer({ min: 0, max: 400 }),
  errorShare: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
});

test("never more than the maximum share of instances ejected (at least one, never the only one)", () => {
  const run = fc.record({
    size: fc.integer({ min: 1, max: 40 }),
    maxEjectionPercent: fc.constantFrom(0, 10, 20, 34, 50),
    windows: fc.array(fc.array(instanceArb, { minLength: 40, maxLength: 40 }), { minLength: 1, maxLength: 25 }),
  });
  fc.assert(
    fc.property(run, ({ size, maxEjectionPercent, windows }) => {
      const settings: EjectionSettings = { ...policyWith({ ejection: { enabled: true, maxEjectionPercent } }).ejection, mesh: "lab" };
      let state = initialEjectionState();
      windows.forEach((pods, i) => {
        const now = T0 + (i + 1) * WINDOW_MS;
        const live = new Set(state.instances.filter((r) => r.ejectedUntilMs !== null && r.ejectedUntilMs > now).map((r) => r.instance));
        // Ejected instances get no traffic, as in the lab.
        const shown = pods.slice(0, size).map((p, k) => ({ instance: `pod-${k}`, requests: live.has(`pod-${k}`) ? 0 : p.requests, errors: live.has(`pod-${k}`) ? 0 : Math.round(p.requests * p.errorShare) }));
        const out = ejectionController(state, [instancesWindow(T0 + i * WINDOW_MS, shown)], settings, now);
        const ejected = out.proposal?.parts.ejection?.ejectInstances ?? [];
        const cap = size < 2 ? 0 : Math.max(1, Math.floor((size * maxEjectionPercent) / 100));
        assert.ok(ejected.length <= cap, `${ejected.length} ejected of ${size} (cap ${cap})`);
        state = out.state;
      });
    }),
    { numRuns: 200 },
  );
});

// Baselines mostly healthy, so that canaries are judged (a failing baseline holds them) and some roll back.
const mostlyHealthyArb = fc.record({
  requests: fc.integer({ min: 0, max: 400 }),
  errorShare: fc.oneof(
    { weight: 8, arbitrary: fc.double({ min: 0, max: 0.01, noNaN: true }) },
    { weight: 1, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  ),
});

interface Step {
  readonly advance: number;
  readonly replay: boolean;
  readonly incomplete: boolean;
  readonly v1: readonly { requests: number; errorShare: number }[];
  readonly v2: readonly { requests: number; errorShare: number }[];
  readonly latency: number;
  readonly command: "none" | "freeze" | "unfreeze" | "canary-abort" | "canary-start" | "release" | "wipe";
  readonly actuation: "applied" | "failed" | "none";
  /** The canary's traffic follows its commanded weight (as a mesh would), so canaries progress and roll back. */
  readonly follow: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  advance: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }) }),
  replay: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  incomplete: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  v1: fc.array(mostlyHealthyArb, { minLength: 1, maxLength: 8 }),
  v2: fc.array(instanceArb, { minLength: 0, maxLength: 3 }),
  latency: fc.integer({ min: 5, max: 300 }),
  command: fc.oneof(
    { weight: 30, arbitrary: fc.constant("none" as const) },
    { weight: 1, arbitrary: fc.constantFrom("freeze" as const, "unfreeze" as const, "canary-abort" as const, "canary-start" as const, "release" as const, "wipe" as const) },
  ),
  actuation: fc.constantFrom("applied" as const, "applied" as const, "failed" as const, "none" as const),
  follow: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const runArb = fc.record({
  cooldown: fc.constantFrom(0, 10_000, 30_000, 90_000),
  deadTime: fc.constantFrom(0, 20_000, 60_000),
  maxActionsPerMinute: fc.integer({ min: 1, max: 6 }),
  steps: fc.array(stepArb, { minLength: 5, maxLength: 60 }),
});

function windowFor(index: number, step: Step, canaryWeight: number | null): WindowAggregate {
  const v1Total = step.v1.reduce((a, p) => a + p.requests, 0);
  const v2 = step.v2.length > 0 ? step.v2 : [{ requests: 0, errorShare: 0 }];
  const follow = step.follow && canaryWeight !== null && canaryWeight < 100;
  const v2Requests = (p: { requests: number }) => (follow ? Math.round((v1Total * canaryWeight) / (100 - canaryWeight) / v2.length) : p.requests);
  const pods = [
    ...step.v1.map((p, k) => ({ instance: `v1-${k}`, version: "v1", requests: p.requests, errors: Math.round(p.requests * p.errorShare), latencyMs: step.latency })),
    ...(follow || step.v2.length > 0 ? v2 : []).map((p, k) => {
      const requests = v2Requests(p);
      return { instance: `v2-${k}`, version: "v2", requests, errors: Math.round(requests * p.errorShare), latencyMs: step.latency * 1.3 };
    }),
  ];
  const w = instancesWindow(T0 + index * WINDOW_MS, pods);
  return step.incomplete ? { ...w, completeness: { complete: false, missingPartitions: [2] } } : w;
}

test("over random traffic, gaps, replays, commands and wipes: no action inside a cooldown or over the rate, generations strictly increase, every decision is valid", () => {
  fc.assert(
    fc.property(runArb, ({ cooldown, deadTime, maxActionsPerMinute, steps }) => {
      const policy = policyWith({
        canary: { enabled: true, minRequestsPerStep: 50, passingWindows: 1 },
        ejection: { enabled: true },
        retries: { enabled: true },
        guardrails: { cooldown, maxActionsPerMinute },
      });
      const minGap = effectiveCooldownMs(cooldown, deadTime);
      let state: TargetState = initialTargetState(target);
      let global: GlobalState = initialGlobalState();
      let index = 0;
      const published: Decision[] = [];
      const actions: { at: number; urgent: boolean }[] = [];
      for (const [k, step] of steps.entries()) {
        if (step.command === "wipe") {
          // Redis wiped: the next window starts from nothing (the service resumes with the next window), and the
          // guardrails no longer know the earlier actions.
          state = initialTargetState(target);
          actions.length = 0;
        } else if (step.command !== "none") {
          const command: ControlCommand = {
            commandId: `c-${k}`,
            command: step.command,
            operator: "op",
            issuedAt: new Date(T0 + index * WINDOW_MS).toISOString(),
            ...(step.command === "freeze" || step.command === "unfreeze" ? {} : { target }),
          };
          const out = applyControl(step.command === "freeze" || step.command === "unfreeze" ? null : state, global, command);
          state = out.state ?? state;
          global = out.global;
          if (out.decision !== null) published.push(out.decision);
        }
        // A replay right after a wipe is the one case generations cannot survive from event time alone: the wiped state
        // knows no newer window. The service resumes after its committed offsets (see initialTargetState's note).
        const wiped = state.lastWindowEndMs === null;
        const windowIndex = step.replay && index > 3 && !wiped ? index - 3 : (index += step.advance);
        const weight = state.canary.phase === "progressing" ? state.canary.weight : null;
        const out = evaluateTarget(state, [windowFor(windowIndex, step, weight)], policy, global, { deadTimeMs: deadTime });
        state = out.state;
        global = out.global;
        if (out.decision !== null) {
          decisionSchema.parse(out.decision);
          published.push(out.decision);
          if (step.actuation !== "none") {
            state = recordActuation(
              state,
              {
                decisionId: out.decision.decisionId,
                target,
                generation: out.decision.generation,
                mesh: "lab",
                status: step.actuation,
                reason: step.actuation,
                resources: [],
                unsupported: [],
                ...(step.actuation === "applied" ? { appliedAt: new Date(out.decision.windowEndMs + 1000).toISOString() } : {}),
                observedAt: new Date(out.decision.windowEndMs + 1000).toISOString(),
              },
              5000,
            );
          }
        }
        if (out.action !== null) {
          const at = out.decision!.windowEndMs;
          const last = actions.at(-1);
          if (!out.action.urgent && last !== undefined) {
            assert.ok(at - last.at >= minGap, `action at ${at} only ${at - last.at} ms after the last (cooldown ${minGap})`);
            const inMinute = actions.filter((a) => a.at > at - 60_000).length;
            assert.ok(inMinute < maxActionsPerMinute, `${inMinute + 1} actions in a minute (max ${maxActionsPerMinute})`);
          }
          actions.push({ at, urgent: out.action.urgent });
        }
      }
      for (let i = 1; i < published.length; i++) {
        assert.ok(published[i]!.generation > published[i - 1]!.generation, `generation ${published[i]!.generation} after ${published[i - 1]!.generation}`);
      }
    }),
    { numRuns: 200 },
  );
});
