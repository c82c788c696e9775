import { targetKey } from "@meshloop/contracts";
import type { ActuationResult, ControlCommand, Decision, PauseNotice, TargetRef, Weights } from "@meshloop/contracts";

/**
 * The console's memory of the loop's actions: the last decisions with their actuation results, pause notices and
 * operators' commands, and what is derived from them (pending proposals, canary weights, the global freeze). Bounded,
 * in memory, filled from the moment the console starts reading; pure, the service feeds it.
 */

export const DECISION_HISTORY = 500;
const PAUSE_HISTORY = 100;
const CONTROL_HISTORY = 200;

export interface ActuationView {
  readonly mesh: string;
  readonly status: ActuationResult["status"];
  readonly reason: string;
  readonly generation: number;
  readonly observedAt: string;
  readonly appliedAt: string | null;
  readonly unsupported: readonly string[];
}

export interface DecisionEntry {
  readonly decision: Decision;
  readonly targetKey: string;
  /** Wall clock of the console when it read the decision. */
  readonly receivedAt: string;
  /** The latest result per mesh (an actuator retrying a failure reports again). */
  actuations: ActuationView[];
}

export interface ProposalAnswer {
  readonly command: "approve" | "reject";
  readonly operator: string;
  readonly at: string;
}

export interface PendingProposal {
  readonly decisionId: string;
  readonly targetKey: string;
  readonly target: TargetRef;
  readonly generation: number;
  readonly controllers: readonly string[];
  readonly reason: string;
  readonly evidence: Decision["evidence"];
  readonly deniedCallers: Decision["desiredState"]["deniedCallers"];
  readonly createdAt: string;
  /** An approve sent for it, until the decision service answers with a new decision. */
  readonly answer: ProposalAnswer | null;
}

export interface CanaryPoint {
  readonly decisionId: string;
  readonly generation: number;
  readonly windowEndMs: number;
  readonly createdAt: string;
  readonly weights: Weights;
  readonly controllers: readonly string[];
  readonly reason: string;
}

export interface CanaryView {
  readonly targetKey: string;
  /** Traffic is split between versions in the latest weights: the canary is under way. */
  readonly inProgress: boolean;
  readonly points: readonly CanaryPoint[];
}

export interface FreezeView {
  /** null: not known yet (no notice read and no store answer). */
  readonly frozen: boolean | null;
  readonly by: string | null;
  readonly reason: string | null;
  readonly at: string | null;
  readonly source: "notice" | "store" | "unknown";
}

export class DecisionLog {
  readonly #entries: DecisionEntry[] = [];
  readonly #byId = new Map<string, DecisionEntry>();
  /** Results read before their decision (the topics are read independently), bounded like the history. */
  readonly #early = new Map<string, ActuationView[]>();
  readonly #pauses: PauseNotice[] = [];
  readonly #controls: ControlCommand[] = [];
  #freeze: FreezeView = { frozen: null, by: null, reason: null, at: null, source: "unknown" };

  /** The entry, or null for a decision already held (a redelivery). */
  addDecision(decision: Decision, receivedAt: Date = new Date()): DecisionEntry | null {
    if (this.#byId.has(decision.decisionId)) return null;
    const entry: DecisionEntry = {
      decision,
      targetKey: targetKey(decision.target),
      receivedAt: receivedAt.toISOString(),
      actuations: this.#early.get(decision.decisionId) ?? [],
    };
    this.#early.delete(decision.decisionId);
    this.#entries.push(entry);
    this.#byId.set(decision.decisionId, entry);
    while (this.#entries.length > DECISION_HISTORY) this.#byId.delete(this.#entries.shift()!.decision.decisionId);
    return entry;
  }

  addActuation(result: ActuationResult): ActuationView {
    const view: ActuationView = {
      mesh: result.mesh,
      status: result.status,
      reason: result.reason,
      generation: result.generation,
      observedAt: result.observedAt,
      appliedAt: result.appliedAt ?? null,
      unsupported: result.unsupported.map((u) => `${u.capability}: ${u.reason}`),
    };
    const entry = this.#byId.get(result.decisionId);
    const list = entry?.actuations ?? this.#early.get(result.decisionId) ?? [];
    const held = list.find((a) => a.mesh === view.mesh);
    // An older report read late (another partition's order) does not overwrite a newer one.
    if (held !== undefined && Date.parse(held.observedAt) > Date.parse(view.observedAt)) return view;
    const kept = [...list.filter((a) => a.mesh !== view.mesh), view];
    if (entry !== undefined) {
      entry.actuations = kept;
    } else {
      this.#early.set(result.decisionId, kept);
      for (const id of this.#early.keys()) {
        if (this.#early.size <= DECISION_HISTORY) break;
        this.#early.delete(id);
      }
    }
    return view;
  }

  addPause(notice: PauseNotice): void {
    if (this.#pauses.some((p) => p.pauseId === notice.pauseId)) return;
    this.#pauses.push(notice);
    if (this.#pauses.length > PAUSE_HISTORY) this.#pauses.shift();
    if (notice.target === undefined) {
      this.#freeze = { frozen: notice.paused, by: notice.by, reason: notice.reason, at: notice.at, source: "notice" };
    }
  }

  /** False for a command already held (a redelivery). */
  addControl(command: ControlCommand): boolean {
    if (this.#controls.some((c) => c.commandId === command.commandId)) return false;
    this.#controls.push(command);
    if (this.#controls.length > CONTROL_HISTORY) this.#controls.shift();
    return true;
  }

  /** The decision service's shared freeze as the store holds it; `frozen` is its JSON value. */
  freezeFromStore(frozen: { by: string; reason: string } | null): void {
    this.#freeze = frozen === null
      ? { frozen: false, by: null, reason: null, at: null, source: "store" }
      : { frozen: true, by: frozen.by, reason: frozen.reason, at: this.#freeze.frozen === true ? this.#freeze.at : null, source: "store" };
  }

  get freeze(): FreezeView {
    return this.#freeze;
  }

  decisions(): readonly DecisionEntry[] {
    return this.#entries;
  }

  entry(decisionId: string): DecisionEntry | undefined {
    return this.#byId.get(decisionId);
  }

  pauses(): readonly PauseNotice[] {
    return this.#pauses;
  }

  controls(): readonly ControlCommand[] {
    return this.#controls;
  }

  /**
   * Decisions awaiting approval: the newest decision of its target (by generation) asks for approval and no reject
   * answered it. An approve leaves it pending, marked, until the decision service publishes the approved decision.
   */
  pending(): PendingProposal[] {
    const out: PendingProposal[] = [];
    for (const entry of latestPerTarget(this.#entries).values()) {
      const d = entry.decision;
      if (!d.requiresApproval) continue;
      const answers = this.#controls.filter((c) => c.decisionId === d.decisionId && (c.command === "approve" || c.command === "reject"));
      if (answers.some((c) => c.command === "reject")) continue;
      const approve = answers.at(-1);
      out.push({
        decisionId: d.decisionId,
        targetKey: entry.targetKey,
        target: d.target,
        generation: d.generation,
        controllers: d.controllers,
        reason: d.reason,
        evidence: d.evidence,
        deniedCallers: d.desiredState.deniedCallers,
        createdAt: d.createdAt,
        answer: approve === undefined ? null : { command: "approve", operator: approve.operator, at: approve.issuedAt },
      });
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Per target whose decisions ever split traffic between versions: the commanded weights over time. */
  canaries(): CanaryView[] {
    const byTarget = new Map<string, CanaryPoint[]>();
    for (const { decision: d, targetKey: key } of this.#entries) {
      const weights = d.desiredState.weights;
      if (weights === null || d.requiresApproval) continue;
      const points = byTarget.get(key) ?? [];
      points.push({ decisionId: d.decisionId, generation: d.generation, windowEndMs: d.windowEndMs, createdAt: d.createdAt, weights, controllers: d.controllers, reason: d.reason });
      byTarget.set(key, points);
    }
    const out: CanaryView[] = [];
    for (const [key, points] of byTarget) {
      if (!points.some((p) => Object.keys(p.weights).length > 1)) continue;
      points.sort((a, b) => a.generation - b.generation);
      const latest = points.at(-1)!.weights;
      out.push({ targetKey: key, inProgress: Object.values(latest).filter((w) => w > 0).length > 1, points });
    }
    return out.sort((a, b) => Number(b.inProgress) - Number(a.inProgress) || a.targetKey.localeCompare(b.targetKey));
  }
}

function latestPerTarget(entries: readonly DecisionEntry[]): Map<string, DecisionEntry> {
  const latest = new Map<string, DecisionEntry>();
  for (const entry of entries) {
    const held = latest.get(entry.targetKey);
    if (held === undefined || entry.decision.generation > held.decision.generation) latest.set(entry.targetKey, entry);
  }
  return latest;
}
