import { targetKey, toCloudEventMessage } from "@meshloop/contracts";
import type { Decision, PauseNotice, TargetRef } from "@meshloop/contracts";
import { MeshloopError } from "@meshloop/errors";
import type { GlobalState, TargetState } from "../target-state.ts";
import type { OutboxMessage, TargetStates } from "./target-states.ts";

const SOURCE = "/meshloop/decision";
const MAX_ATTEMPTS = 8;

export interface TargetUpdate {
  readonly state: TargetState;
  readonly decision: Decision | null;
  readonly notices: readonly PauseNotice[];
}

/** Another writer kept changing the target; the consumer redelivers the batch and the work is redone. */
export class TargetContentionError extends MeshloopError {
  constructor(target: TargetRef) {
    super(`state of ${target.mesh}/${target.namespace}/${target.service} changed under ${MAX_ATTEMPTS} attempts in a row`, {
      retriable: true,
      context: { target: targetKey(target) },
    });
  }
}

export function decisionMessage(decision: Decision): OutboxMessage {
  return text(toCloudEventMessage({ type: "dev.meshloop.decision.v1", id: decision.decisionId, source: SOURCE, time: decision.createdAt, data: decision }));
}

export function noticeMessage(notice: PauseNotice): OutboxMessage {
  return text(toCloudEventMessage({ type: "dev.meshloop.pause.v1", id: notice.pauseId, source: SOURCE, time: notice.at, data: notice }));
}

function text(message: { key: string; value: Buffer; headers: Record<string, string> }): OutboxMessage {
  return { key: message.key, value: message.value.toString("utf8"), headers: message.headers };
}

/**
 * The one way a target's state changes: read, compute (pure), write the new state together with the messages it
 * produced (an outbox), publish them, then clear the outbox. A crash after the write publishes them on the next
 * update of the target (the same messages, ids and content: at-least-once without a second version of a decision);
 * a crash before it leaves the old state, and the redelivered input computes the same result again.
 *
 * `update` resolves once the messages are published; the outbox is cleared after that without waiting for the
 * store's answer. The clear is sent before anything that follows can read the target (one connection keeps the
 * order), and if it is lost the next update publishes the same messages again, which at-least-once allows.
 */
export class TargetWriter {
  readonly #states: TargetStates;
  readonly #publish: (messages: readonly OutboxMessage[]) => Promise<void>;
  readonly #onConflict: () => void;

  constructor(states: TargetStates, publish: (messages: readonly OutboxMessage[]) => Promise<void>, onConflict: () => void) {
    this.#states = states;
    this.#publish = publish;
    this.#onConflict = onConflict;
  }

  /**
   * Runs `work` on the target's current state and the global freeze read with it; null from `work` means nothing
   * changes.
   */
  async update(target: TargetRef, work: (state: TargetState, frozen: GlobalState["frozen"]) => TargetUpdate | null): Promise<TargetUpdate | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let loaded = await this.#states.load(target);
      if (loaded.outbox.length > 0) {
        await this.#publish(loaded.outbox);
        const cleared = await this.#states.save(loaded, loaded.state, []);
        if (cleared === null) continue;
        loaded = cleared;
      }
      const result = work(loaded.state, loaded.frozen);
      if (result === null) return null;
      const messages = [...(result.decision === null ? [] : [decisionMessage(result.decision)]), ...result.notices.map(noticeMessage)];
      const saved = await this.#states.save(loaded, result.state, messages);
      if (saved === null) {
        this.#onConflict();
        continue;
      }
      if (messages.length > 0) {
        await this.#publish(messages);
        // Not awaited (see above). Losing this race is fine: whoever wrote since has published this outbox before
        // its own work; a failure leaves the outbox to the next update.
        this.#states.save(saved, result.state, []).catch(() => undefined);
      }
      return result;
    }
    throw new TargetContentionError(target);
  }
}
