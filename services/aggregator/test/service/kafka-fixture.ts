import type { Bus, ConsumedRecord, Consumer } from "@meshloop/bus";
import { createKafkaBus } from "@meshloop/bus";
import type { WindowAggregate } from "@meshloop/contracts";
import { decodeEnvelope, topicNames } from "@meshloop/contracts";
import type { InfraLease } from "@meshloop/test-harness";
import { serviceEnv, uniqueName } from "@meshloop/test-harness";
import type { GenSpan } from "../span-stream.ts";
import { toRecords, WINDOW_MS, T0 } from "../span-stream.ts";

/**
 * Moves generated spans to just before the present (whole windows). They are produced faster than they happened, so
 * the stages' wall-clock watermark (now - lateness, for caught-up partitions) must stay behind them until every
 * record is in, or it would close windows and expire unpaired spans early. The data therefore starts 35 s ago
 * whatever its spread, and the runs use 60 s of lateness (LATENESS_MS): the earliest span stays 25 s ahead of the
 * watermark, more than producing takes. (It used to end 45 s ago, which put the first seconds of a 20 s spread
 * behind the watermark before anything was produced: their pairs expired and 1-2 edges went missing in some runs.)
 * Real traffic arrives as it happens and needs none of this.
 */
export const LATENESS_MS = 60_000;
const LEAD_MS = 25_000;

export function toPresent(spans: readonly GenSpan[], _spreadMs: number): GenSpan[] {
  const shift = Math.floor((Date.now() - (LATENESS_MS - LEAD_MS) - T0) / WINDOW_MS) * WINDOW_MS;
  return spans.map((span) => ({ ...span, startMs: span.startMs + shift, endMs: span.endMs + shift, exportAtMs: span.exportAtMs + shift }));
}

export interface KafkaRun {
  bus: Bus;
  prefix: string;
  topics: ReturnType<typeof topicNames>;
  env: Record<string, string>;
  produce(spans: readonly GenSpan[]): Promise<number>;
  /** Collects every final aggregate written (read-committed). */
  collectAggregates(): { aggregates: WindowAggregate[]; ids: string[]; consumer: Consumer; start(): Promise<void> };
  close(): Promise<void>;
}

export async function kafkaRun(lease: InfraLease): Promise<KafkaRun> {
  const prefix = uniqueName("agg");
  const topics = topicNames(prefix);
  const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "aggregator-test" });
  const consumers: Consumer[] = [];
  const env = {
    ...serviceEnv(lease, prefix),
    MESHLOOP_LOG_LEVEL: "warn",
    MESHLOOP_AGGREGATOR_COMPLETENESS_TIMEOUT: "5s",
    MESHLOOP_AGGREGATOR_LATENESS: `${LATENESS_MS}ms`,
    MESHLOOP_AGGREGATOR_CHECKPOINT_INTERVAL: "200ms",
    MESHLOOP_AGGREGATOR_SESSION_TIMEOUT: "6s",
  };
  return {
    bus,
    prefix,
    topics,
    env,
    async produce(spans) {
      const partitions = await bus.partitionCount(topics.spans);
      const producer = bus.producer();
      let count = 0;
      for (const records of toRecords(spans, partitions)) {
        for (const record of records) {
          await producer.send(topics.spans, [{ value: Buffer.from(record.value), partition: record.partition, timestamp: record.timestampMs }]);
          count++;
        }
      }
      await producer.close();
      return count;
    },
    collectAggregates() {
      const aggregates: WindowAggregate[] = [];
      const ids: string[] = [];
      const consumer = bus.consumer({
        groupId: uniqueName("check"),
        topics: [topics.aggregates],
        fromBeginning: true,
        handler: async (batch) => {
          for (const record of batch.records as ConsumedRecord[]) {
            const envelope = decodeEnvelope(record.value!, "meshloop.aggregate");
            aggregates.push(envelope.data);
            ids.push(envelope.id);
          }
        },
      });
      consumers.push(consumer);
      return { aggregates, ids, consumer, start: () => consumer.start() };
    },
    async close() {
      await Promise.all(consumers.map((c) => c.stop()));
      await bus.deleteTopics(Object.values(topics)).catch(() => undefined);
      await bus.close();
    },
  };
}
