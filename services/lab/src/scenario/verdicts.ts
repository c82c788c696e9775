import type { ActuationResult, Decision } from "@meshloop/contracts";
import type { Expectation, Scenario } from "./schema.ts";

/**
 * Judging a run against its scenario's expectations. Pure: the runner records what happened (decisions and
 * actuations as they arrived, the faults' onsets) and asks after every event and at the end. Times that decide a
 * verdict are event times in windows; wall-clock delays are only reported, as figures.
 */

export interface SeenDecision {
  readonly decision: Decision;
  /** Wall-clock time the runner read it. */
  readonly seenAtMs: number;
}

export interface RunRecord {
  readonly startedAtMs: number;
  readonly faults: readonly { readonly name: string; readonly onsetMs: number }[];
  readonly decisions: readonly SeenDecision[];
  readonly actuations: readonly ActuationResult[];
}

export type VerdictState = "passed" | "failed" | "pending";

export interface Verdict {
  readonly expectation: Expectation;
  readonly state: VerdictState;
  readonly detail: string;
  /** For a decision expectation met: wall-clock delays from the anchor (fault onset or start), as figures. */
  readonly figures?: { readonly toDecisionMs: number; readonly toActuationMs: number | null; readonly windows: number };
}

export function judge(scenario: Scenario, record: RunRecord, final: boolean): Verdict[] {
  return scenario.expect.map((e) => judgeOne(scenario, record, e, final));
}

/** Every expectation passed, or the rest cannot change any more: the run may end. */
export function settled(verdicts: readonly Verdict[]): boolean {
  return verdicts.every((v) => v.state !== "pending") || verdicts.some((v) => v.state === "failed");
}

function judgeOne(scenario: Scenario, record: RunRecord, e: Expectation, final: boolean): Verdict {
  const forService = record.decisions.filter((d) => d.decision.target.service === e.service);
  switch (e.kind) {
    case "decision": {
      const anchor = anchorOf(record, e, forService);
      const from = e.afterDecision === undefined ? e.after : `${e.anchorAt === "applied" ? "the actuation of " : ""}the decision matching "${e.afterDecision}"`;
      if (anchor === undefined) return { expectation: e, state: final ? "failed" : "pending", detail: `${from} never happened` };
      const deadline = e.withinWindows === undefined ? Number.POSITIVE_INFINITY : anchor + e.withinWindows * scenario.window;
      const candidates = forService.filter((d) => matches(d.decision, e) && d.decision.windowEndMs >= anchor);
      const inTime = candidates.filter((d) => d.decision.windowEndMs <= deadline);
      const hit = inTime.find((d) => !e.applied || applied(record, d.decision) !== null);
      if (hit !== undefined) {
        const act = applied(record, hit.decision);
        const windows = Math.ceil((hit.decision.windowEndMs - anchor) / scenario.window);
        return {
          expectation: e,
          state: "passed",
          detail: `${hit.decision.decisionId} after ${windows} windows: ${hit.decision.reason}`,
          figures: { toDecisionMs: hit.seenAtMs - anchor, toActuationMs: act === null ? null : Date.parse(act.appliedAt ?? act.observedAt) - anchor, windows },
        };
      }
      const late = candidates[0];
      if (late !== undefined && inTime.length === 0) {
        return { expectation: e, state: "failed", detail: `first matching decision came ${Math.ceil((late.decision.windowEndMs - anchor) / scenario.window)} windows after ${from}, over ${e.withinWindows}` };
      }
      const why = inTime.length > 0 ? "a matching decision was not (yet) applied" : "no matching decision";
      return { expectation: e, state: final ? "failed" : "pending", detail: `${why} (${forService.length} decisions for ${e.service})` };
    }
    case "no-decision": {
      const bad = forService.find((d) => matches(d.decision, e));
      if (bad !== undefined) return { expectation: e, state: "failed", detail: `${bad.decision.decisionId}: ${bad.decision.reason}` };
      return { expectation: e, state: final ? "passed" : "pending", detail: `no matching decision among ${forService.length} for ${e.service}` };
    }
    case "final-weights": {
      const last = [...forService].reverse().find((d) => d.decision.desiredState.weights !== null && !d.decision.requiresApproval);
      const weights = last?.decision.desiredState.weights ?? null;
      const same = weights !== null && Object.entries(e.weights).every(([v, w]) => (weights[v] ?? 0) === w);
      const shown = weights === null ? "no weights published" : JSON.stringify(weights);
      // Met now may change later, but a scenario that expects final weights ends once they are reached.
      return { expectation: e, state: same ? "passed" : final ? "failed" : "pending", detail: shown };
    }
    case "weight-reversals": {
      const series = forService.flatMap((d) => (d.decision.desiredState.weights === null ? [] : [d.decision.desiredState.weights[e.version] ?? 0]));
      const reversals = countReversals(series);
      if (reversals > e.max) return { expectation: e, state: "failed", detail: `${reversals} reversals in ${series.join(" → ")}` };
      return { expectation: e, state: final ? "passed" : "pending", detail: `${reversals} reversals in ${series.length} weights` };
    }
  }
}

function anchorOf(record: RunRecord, e: Extract<Expectation, { kind: "decision" }>, forService: readonly SeenDecision[]): number | undefined {
  if (e.afterDecision !== undefined) {
    const pattern = new RegExp(e.afterDecision, "i");
    const found = forService.find((d) => pattern.test(d.decision.reason))?.decision;
    if (found === undefined || e.anchorAt === "decided") return found?.windowEndMs;
    // The lab's windows run on its own (wall) clock, so an actuation's wall time compares with window ends.
    const act = applied(record, found);
    return act === null ? undefined : Math.max(found.windowEndMs, Date.parse(act.appliedAt ?? act.observedAt));
  }
  return e.after === "start" ? record.startedAtMs : record.faults.find((f) => f.name === e.after)?.onsetMs;
}

function matches(d: Decision, e: { controller?: string | undefined; reason?: string | undefined; requiresApproval?: boolean | undefined }): boolean {
  if (e.controller !== undefined && !d.controllers.includes(e.controller as Decision["controllers"][number])) return false;
  if (e.reason !== undefined && !new RegExp(e.reason, "i").test(d.reason)) return false;
  if (e.requiresApproval !== undefined && d.requiresApproval !== e.requiresApproval) return false;
  return true;
}

function applied(record: RunRecord, d: Decision): ActuationResult | null {
  return record.actuations.find((a) => a.decisionId === d.decisionId && a.status === "applied") ?? null;
}

/** Changes of direction in a series, ignoring repeats. */
export function countReversals(series: readonly number[]): number {
  let reversals = 0;
  let direction = 0;
  for (let i = 1; i < series.length; i++) {
    const step = Math.sign(series[i]! - series[i - 1]!);
    if (step === 0) continue;
    if (direction !== 0 && step !== direction) reversals++;
    direction = step;
  }
  return reversals;
}
