import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { ControlCommand, Decision, DesiredState, PauseNotice } from "@meshloop/contracts";
import type { ControllerOutput } from "./controller.ts";
import { canaryCommand } from "./controllers/canary.ts";
import type { CanaryState } from "./controllers/canary-state.ts";
import { approvedDenials, callerKey, liveRejections, rejectionUntil } from "./approval.ts";
import { composeDesiredState } from "./guardrails/compose.ts";
import { nextGeneration } from "./guardrails/generation.ts";
import { iso } from "./format.ts";
import type { GlobalState, TargetState } from "./target-state.ts";

/**
 * Operators' commands, as pure state changes. Freeze and unfreeze hold or resume actions (a target's, or all without
 * a target) and are announced as pause notices. Release hands a target back to the mesh with an empty desired state.
 * canary-start and canary-abort go to the canary controller; an abort is an operator's decision and goes out at
 * once, whatever the cooldown. Approve and reject answer the decision awaiting approval (approval.ts): approve
 * publishes its change as a new decision with a new generation; reject drops it.
 * Decisions for commands take their generation from the target's last window end, like any other.
 */

export interface ControlOutcome {
  /** The target's state after the command; null for global commands. */
  readonly state: TargetState | null;
  readonly global: GlobalState;
  readonly decision: Decision | null;
  readonly notices: PauseNotice[];
  /** What happened, for the command's log line and answer. */
  readonly reason: string;
}

export function applyControl(state: TargetState | null, global: GlobalState, command: ControlCommand): ControlOutcome {
  const by = command.operator;
  const why = command.reason ?? "no reason given";
  const at = command.issuedAt;
  if (command.target === undefined || state === null) {
    if (command.command === "freeze") {
      const n = note(command, null, true, `Frozen by ${by}: ${why}.`, at);
      return { state, global: { ...global, frozen: { by, reason: why } }, decision: null, notices: [n], reason: "all targets frozen" };
    }
    if (command.command === "unfreeze") {
      const n = note(command, null, false, `Unfrozen by ${by}.`, at);
      return { state, global: { ...global, frozen: null }, decision: null, notices: [n], reason: "all targets unfrozen" };
    }
    return { state, global, decision: null, notices: [], reason: `${command.command} needs a target` };
  }
  switch (command.command) {
    case "freeze": {
      const n = note(command, state, true, `Frozen by ${by}: ${why}.`, at);
      return { state: { ...state, frozen: { by, reason: why } }, global, decision: null, notices: [n], reason: "target frozen" };
    }
    case "unfreeze": {
      const n = note(command, state, false, `Unfrozen by ${by}.`, at);
      return { state: { ...state, frozen: null, released: false }, global, decision: null, notices: [n], reason: "target unfrozen" };
    }
    case "release": {
      const desired = emptyDesiredState(state.target);
      const out = decide({ ...state, released: true }, desired, `${by} released the target to the mesh: meshloop manages nothing of it until it is unfrozen (${why}).`, command);
      return { ...out, global, notices: [], reason: "target released" };
    }
    case "canary-start":
    case "canary-abort": {
      const result: ControllerOutput<CanaryState> = canaryCommand(
        state.canary,
        { command: command.command, operator: by, ...(command.version === undefined ? {} : { version: command.version }) },
        state.lastWindowEndMs ?? 0,
      );
      const next = { ...state, canary: result.state };
      if (result.proposal === null) return { state: next, global, decision: null, notices: [], reason: result.reason };
      const desired = composeDesiredState(state.desired, result.proposal.parts, state.lastWindowEndMs ?? 0);
      const out = decide(next, desired, result.reason, command);
      return { ...out, global, notices: [], reason: result.reason };
    }
    case "approve":
    case "reject": {
      const awaiting = state.awaitingApproval ?? null;
      if (awaiting === null || awaiting.decisionId !== command.decisionId) {
        const other = awaiting === null ? "" : ` (${awaiting.decisionId} does)`;
        return { state, global, decision: null, notices: [], reason: `no decision ${command.decisionId ?? ""} awaits approval${other}` };
      }
      const atMs = Date.parse(at);
      if (command.command === "reject") {
        const until = rejectionUntil(awaiting, atMs);
        const rejected = [...liveRejections(state.rejectedCallers, atMs), ...awaiting.deniedCallers.map((d) => ({ caller: callerKey(d, state.target.namespace), untilMs: until }))];
        return { state: { ...state, awaitingApproval: null, rejectedCallers: rejected }, global, decision: null, notices: [], reason: `${awaiting.decisionId} rejected by ${by}: not applied, and its callers are not proposed again before ${iso(until)}` };
      }
      const nowMs = state.lastWindowEndMs ?? atMs;
      const deniedCallers = approvedDenials(state.desired.deniedCallers, awaiting, atMs, nowMs);
      const desired = composeDesiredState(state.desired, { deniedCallers }, nowMs);
      const out = decide({ ...state, awaitingApproval: null }, desired, `Approved by ${by}: ${awaiting.reason}`, command);
      return { ...out, global, notices: [], reason: `${awaiting.decisionId} approved: published as ${out.decision.decisionId}` };
    }
  }
}

function decide(state: TargetState, desired: DesiredState, reason: string, command: ControlCommand): { state: TargetState; decision: Decision } {
  const windowEndMs = state.lastWindowEndMs ?? 0;
  const generation = nextGeneration(state.generation, windowEndMs);
  const decision: Decision = {
    decisionId: `${targetKey(state.target)}@${generation}`,
    target: { ...state.target },
    generation,
    desiredState: desired,
    controllers: ["operator"],
    reason,
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs,
    createdAt: command.issuedAt,
  };
  const controllers = [...new Set([...(state.pending?.controllers ?? []), "operator" as const])];
  return { state: { ...state, generation, desired, pending: { generation, controllers } }, decision };
}

function note(command: ControlCommand, state: TargetState | null, paused: boolean, reason: string, at: string): PauseNotice {
  return {
    pauseId: `${state === null ? "global" : targetKey(state.target)}:${command.commandId}`,
    ...(state === null ? {} : { target: { ...state.target } }),
    paused,
    by: "operator",
    commandId: command.commandId,
    reason,
    at: iso(Date.parse(at)),
  };
}
