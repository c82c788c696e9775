import type { Bus, ConsumedBatch, Consumer } from "@meshloop/bus";
import { decodeEnvelope } from "@meshloop/contracts";
import type { Logger } from "@meshloop/runtime";
import { Stage2Processor } from "./stage-processors.ts";
import type { TransactionalStage } from "./transactional-stage.ts";

export interface GaugeFeedCounters {
  onJoined(samples: number): void;
  /** A batch for a partition another instance's stage 2 owns (it reads the same batch and joins it there). */
  onNotOwned(): void;
  onDiscarded(error: Error): void;
}

export interface GaugeFeedOptions {
  bus: Bus;
  topic: string;
  /** One group per aggregator instance: every instance reads every gauge and joins those of its own partitions. */
  groupId: string;
  stage2: TransactionalStage;
  logger: Logger;
  counters: GaugeFeedCounters;
}

/**
 * Resource gauges (CPU, memory) into stage 2's windows. The resource-metrics topic is keyed by service like the
 * partials topic and has as many partitions, so gauge partition p belongs to whoever owns partials partition p.
 * Gauges are levels, not counts: they need no exactly-once hand-over, so they come in on a plain consumer that each
 * instance runs on the whole topic (gauges are few), joining a batch only where it owns the partition. A gauge that
 * arrives while its partition is moving is dropped and counted; the next sample of the same level replaces it.
 */
export class GaugeFeed {
  readonly #options: GaugeFeedOptions;
  #consumer: Consumer | null = null;
  #starting: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: GaugeFeedOptions) {
    this.#options = options;
  }

  /**
   * Starts reading once stage 2 holds its first partitions, so that the gauges already in the topic are not all
   * dropped as "owned elsewhere" while the stage is still joining its group. Does not wait for that.
   */
  start(): Promise<void> {
    const { stage2, logger } = this.#options;
    this.#starting = stage2.assigned
      .then(() => (this.#stopped ? undefined : this.#startConsumer()))
      .catch((error: unknown) => logger.error({ err: error }, "gauge consumer did not start"));
    return Promise.resolve();
  }

  async #startConsumer(): Promise<void> {
    const { bus, topic, groupId, logger } = this.#options;
    this.#consumer = bus.consumer({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handler: (batch) => this.#onBatch(batch),
      onError: (error) => logger.warn({ err: error }, "gauge consumer error"),
    });
    await this.#consumer.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#starting;
    await this.#consumer?.stop();
    this.#consumer = null;
  }

  async #onBatch(batch: ConsumedBatch): Promise<void> {
    const { stage2, counters } = this.#options;
    for (const record of batch.records) {
      let gauges;
      try {
        gauges = decodeEnvelope(record.value ?? "", "meshloop.gauges").data;
      } catch (error) {
        counters.onDiscarded(error as Error);
        continue;
      }
      const joined = await stage2.visit(record.partition, (processor) => {
        if (processor instanceof Stage2Processor) processor.addGauges(gauges);
      });
      if (joined) counters.onJoined(gauges.samples.length);
      else counters.onNotOwned();
    }
  }
}
