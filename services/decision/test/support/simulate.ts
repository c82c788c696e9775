// A closed loop in event time: synthetic traffic split by the applied weights, the decision core, and an actuator that
// applies each decision after a delay and reports it back. Expectations are in windows, never wall-clock seconds.
import { actuationResultSchema, decisionSchema, pauseNoticeSchema } from "@meshloop/contracts";
import type { ActuationResult, Decision, PauseNotice, WindowAggregate } from "@meshloop/contracts";
import { evaluateTarget, initialGlobalState, initialTargetState, recordActuation } from "../../src/index.ts";
import type { CanaryOutcome, Evaluation, GlobalState, Policy, TargetState } from "../../src/index.ts";
import { poisson, rng, T0, target, trafficWindow, WINDOW_MS } from "./aggregates.ts";
import type { VersionBehaviour } from "./aggregates.ts";

export interface Scenario {
  readonly seed: number;
  readonly windows: number;
  readonly policy: Policy;
  /** Requests per second in window i. */
  readonly rps: (i: number, random: () => number) => number;
  readonly behaviour: (version: string, i: number, random: () => number) => VersionBehaviour;
  readonly baseline?: string;
  readonly canary?: string;
  /** Window index from which the canary's pods exist (gauges, no traffic until weights give it some). */
  readonly deployCanaryAt?: number;
  /** No aggregate at all for window i: the service ticks the target with the watermark instead. */
  readonly gap?: (i: number) => boolean;
  readonly incomplete?: (i: number) => boolean;
  /** False: no actuator at all (dry run), nothing is applied or reported. */
  readonly actuator?: boolean;
  /** What the actuator answers; applied by default. */
  readonly actuation?: (decision: Decision) => ActuationResult["status"];
  readonly applyDelayMs?: number;
  readonly propagationMs?: number;
  readonly deadTimeMs?: number;
  /** Window i's start; default T0 + i windows (a clock jump moves it). */
  readonly startOf?: (i: number) => number;
  /** The traffic split the mesh really produces from the applied weights (default: exactly them). */
  readonly trafficWeights?: (applied: Record<string, number>, i: number) => Record<string, number>;
  /** Windows before which the state goes through JSON, as a restarted service loads it from Redis. */
  readonly restartAt?: readonly number[];
  /** Stop at the first canary outcome (promoted, rolled back, aborted). */
  readonly stopAtOutcome?: boolean;
  /** Validate every decision and notice against the contracts (on by default; off for the 500-run loops' speed). */
  readonly validate?: boolean;
}

export interface Trace {
  readonly decisions: Decision[];
  readonly notices: PauseNotice[];
  readonly evaluations: Evaluation[];
  readonly states: TargetState[];
  /** Window index of each decision, parallel to decisions. */
  readonly decisionWindows: number[];
  readonly outcome: CanaryOutcome | null;
  readonly final: TargetState;
}

export function simulate(s: Scenario): Trace {
  const random = rng(s.seed);
  const baseline = s.baseline ?? "v1";
  const canary = s.canary ?? "v2";
  const deployAt = s.deployCanaryAt ?? 2;
  const applyDelay = s.applyDelayMs ?? 2_000;
  const propagation = s.propagationMs ?? 5_000;
  const validate = s.validate ?? true;
  let state = initialTargetState(target);
  let global: GlobalState = initialGlobalState();
  let applied: Record<string, number> = { [baseline]: 100 };
  const queue: { atMs: number; decision: Decision }[] = [];
  const trace: Trace = { decisions: [], notices: [], evaluations: [], states: [], decisionWindows: [], outcome: null, final: state };
  let outcome: CanaryOutcome | null = null;
  for (let i = 0; i < s.windows; i++) {
    const start = s.startOf?.(i) ?? T0 + i * WINDOW_MS;
    // The actuator: decisions whose time came are applied (or not) and reported back before this window.
    while (queue.length > 0 && queue[0]!.atMs <= start) {
      const { atMs, decision } = queue.shift()!;
      const status = s.actuation?.(decision) ?? "applied";
      if (status === "applied" && decision.desiredState.weights !== null) applied = decision.desiredState.weights;
      const result: ActuationResult = {
        decisionId: decision.decisionId,
        target,
        generation: decision.generation,
        mesh: target.mesh,
        status,
        reason: status,
        resources: [],
        unsupported: [],
        ...(status === "applied" ? { appliedAt: new Date(atMs).toISOString() } : {}),
        observedAt: new Date(atMs).toISOString(),
      };
      if (validate) actuationResultSchema.parse(result);
      state = recordActuation(state, result, propagation);
    }
    if (s.restartAt?.includes(i) === true) state = JSON.parse(JSON.stringify(state)) as TargetState;
    const deployed = i >= deployAt ? [baseline, canary] : [baseline];
    let windows: WindowAggregate[] = [];
    if (!(s.gap?.(i) ?? false)) {
      const requests = poisson(random, s.rps(i, random) * (WINDOW_MS / 1000));
      const split = s.trafficWeights?.(applied, i) ?? applied;
      const aggregate = trafficWindow(random, start, requests, split, (v) => s.behaviour(v, i, random), deployed);
      windows = [s.incomplete?.(i) ? { ...aggregate, completeness: { complete: false, missingPartitions: [7] } } : aggregate];
    }
    const evaluation = evaluateTarget(state, windows, s.policy, global, {
      now: start + WINDOW_MS,
      deadTimeMs: s.deadTimeMs ?? 0,
      propagationDelayMs: propagation,
    });
    state = evaluation.state;
    global = evaluation.global;
    trace.evaluations.push(evaluation);
    trace.states.push(state);
    trace.notices.push(...evaluation.notices);
    if (validate) for (const n of evaluation.notices) pauseNoticeSchema.parse(n);
    if (evaluation.decision !== null) {
      if (validate) decisionSchema.parse(evaluation.decision);
      trace.decisions.push(evaluation.decision);
      trace.decisionWindows.push(i);
      if (s.actuator !== false) queue.push({ atMs: evaluation.decision.windowEndMs + applyDelay, decision: evaluation.decision });
    }
    if (state.canary.lastOutcome !== null && outcome === null) {
      outcome = state.canary.lastOutcome;
      if (s.stopAtOutcome === true) break;
    }
  }
  return { ...trace, outcome, final: state };
}

/** The window index (from the canary's first step) at which the outcome came; null if none. */
export function outcomeWindow(trace: Trace): number | null {
  const i = trace.states.findIndex((st) => st.canary.lastOutcome !== null);
  return i < 0 ? null : i;
}

export function steady(rps: number): (i: number) => number {
  return () => rps;
}

export const healthy: VersionBehaviour = { errorRate: 0.005, medianMs: 40, sigma: 0.5 };
