import type { Bus, ConsumedBatch, Consumer, Producer } from "@meshloop/bus";
import { fromCloudEventMessage, targetKey, toCloudEventMessage } from "@meshloop/contracts";
import type { Decision } from "@meshloop/contracts";
import { withRetry } from "@meshloop/errors";
import type { Logger, Metrics } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import type { ApplyOutcome, MeshApplier } from "./applier.ts";
import { AppliedGenerations } from "./generations.ts";
import { actuationResult, planFor, settles } from "./plan.ts";

export interface ActuatorOptions {
  readonly applier: MeshApplier;
  readonly bus: Bus;
  readonly store: StateStore;
  readonly decisionsTopic: string;
  readonly actuationsTopic: string;
  /** Its own consumer group on the decisions topic: every mesh's actuator reads every decision. */
  readonly groupId: string;
  readonly mode: "apply" | "dry-run";
  readonly retry: { readonly attempts: number; readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly sessionTimeoutMs?: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * An actuator service's loop. For each decision for its mesh: skip it as stale unless its generation is above the
 * last one carried out for the target; hold it while it awaits approval; otherwise apply it (transient failures
 * retried with exponential backoff and jitter, bounded), record the generation, and publish the result to the
 * actuations topic keyed like the decision, before the offset is committed. At-least-once: a crash between the
 * apply and the record applies the decision again on redelivery, which changes nothing, since a decision is a full
 * desired state and appliers are idempotent; its result is then published twice, with the same decision id.
 */
export class Actuator {
  readonly #options: ActuatorOptions;
  readonly #generations: AppliedGenerations;
  readonly #abort = new AbortController();
  readonly #results;
  readonly #discarded;
  readonly #applySeconds;
  #consumer: Consumer | null = null;
  #producer: Producer | null = null;

  constructor(options: ActuatorOptions) {
    this.#options = options;
    this.#generations = new AppliedGenerations(options.store, options.applier.mesh);
    const { metrics } = options;
    this.#results = metrics.counter({ name: "meshloop_actuator_results_total", help: "Actuation results published, by status.", labelNames: ["mesh", "status"] as const });
    this.#discarded = metrics.counter({ name: "meshloop_actuator_discarded_records_total", help: "Decisions-topic records that could not be read (malformed), skipped and counted." });
    this.#applySeconds = metrics.histogram({ name: "meshloop_actuator_apply_seconds", help: "Time to apply one decision, retries included.", labelNames: ["mesh"] as const, buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
  }

  async start(): Promise<void> {
    const { bus, decisionsTopic, groupId, sessionTimeoutMs, logger } = this.#options;
    this.#producer = bus.producer();
    await this.#producer.connect();
    this.#consumer = bus.consumer({
      groupId,
      topics: [decisionsTopic],
      fromBeginning: true,
      ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
      handler: (batch) => this.#onBatch(batch),
      onError: (error) => logger.warn({ err: error }, "decisions consumer error; resuming from the last committed offset"),
    });
    await this.#consumer.start();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#consumer?.stop();
    await this.#producer?.close();
  }

  async #onBatch(batch: ConsumedBatch): Promise<void> {
    const mesh = this.#options.applier.mesh;
    for (const record of batch.records) {
      let decision: Decision;
      try {
        const event = fromCloudEventMessage(record, ["dev.meshloop.decision.v1", "dev.meshloop.pause.v1"]);
        if (event.type !== "dev.meshloop.decision.v1") continue;
        decision = event.data;
      } catch (error) {
        this.#discarded.inc();
        this.#options.logger.warn({ partition: record.partition, offset: record.offset, err: error }, "decisions record skipped");
        continue;
      }
      if (decision.target.mesh !== mesh) continue;
      await this.#handle(decision);
      // kafkajs heartbeats only between batches unless asked: a batch of slow applies must not outlive the session.
      // A heartbeat refused by a rebalance is kafkajs's to act on after the batch.
      await batch.heartbeat().catch(() => undefined);
    }
  }

  async #handle(decision: Decision): Promise<void> {
    const { applier, logger, mode, retry } = this.#options;
    const plan = planFor(decision, await this.#generations.last(decision.target), mode);
    let outcome: ApplyOutcome;
    if (plan.action === "skip") {
      outcome = plan.outcome;
    } else {
      const started = performance.now();
      try {
        outcome = await withRetry(() => applier.apply(decision, { mode: plan.mode, signal: this.#abort.signal }), { ...retry, signal: this.#abort.signal });
      } catch (error) {
        outcome = { status: "failed", reason: `not applied: ${(error as Error).message}`, resources: [], unsupported: [] };
      }
      this.#applySeconds.observe({ mesh: applier.mesh }, (performance.now() - started) / 1000);
      if (settles(outcome)) await this.#generations.record(decision.target, decision.generation);
    }
    const result = actuationResult(decision, outcome, new Date());
    await this.#producer!.send(this.#options.actuationsTopic, [
      toCloudEventMessage({ type: "dev.meshloop.actuation.v1", id: `${decision.decisionId}/${applier.mesh}`, source: `/meshloop/actuator/${applier.mesh}`, data: result }),
    ]);
    this.#results.inc({ mesh: applier.mesh, status: outcome.status });
    logger.info({ target: targetKey(decision.target), generation: decision.generation, status: outcome.status }, outcome.reason);
  }
}
