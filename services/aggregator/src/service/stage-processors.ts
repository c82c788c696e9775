import type { ConsumedRecord } from "@meshloop/bus";
import type { GaugeBatch, PartialAggregate, ProgressMark, WindowAggregate } from "@meshloop/contracts";
import { decodeEnvelope, encodeEnvelope, targetKey } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import type { Stage1OptionsInput, Stage2OptionsInput } from "../options.ts";
import type { Stage1Output, Stage1Snapshot } from "../stage1/stage1.ts";
import { Stage1Partition } from "../stage1/stage1.ts";
import type { Stage2Snapshot } from "../stage2/stage2.ts";
import { Stage2Merger } from "../stage2/stage2.ts";
import type { ServiceRegistry } from "./service-registry.ts";
import type { PartitionProcessor, ProcessorSnapshot, StageOutput } from "./transactional-stage.ts";

/** A stage 1 snapshot whose dedup fingerprints are stored apart, named by `dedupParts` in generation order. */
type CheckpointedStage1 = Stage1Snapshot & { dedupParts?: string[] };

function withDedupParts(snapshot: CheckpointedStage1, parts: ReadonlyMap<string, string>): Stage1Snapshot {
  const ids = snapshot.dedupParts;
  if (ids === undefined) return snapshot;
  const generations = snapshot.dedup.generations.map((generation, i) => {
    const fingerprints = parts.get(ids[i] ?? "");
    if (fingerprints === undefined) throw new ValidationError(`stage 1 checkpoint refers to dedup part ${ids[i] ?? i} that was not stored`);
    return { startMs: generation.startMs, fingerprints };
  });
  return { ...snapshot, dedup: { ...snapshot.dedup, generations } };
}

/** Stage 1 on one spans partition: records in, partials and progress marks (keyed by service) out. */
export class Stage1Processor implements PartitionProcessor {
  readonly state: Stage1Partition;
  readonly #partialsTopic: string;
  readonly #registry: ServiceRegistry | undefined;

  constructor(state: Stage1Partition, partialsTopic: string, registry?: ServiceRegistry) {
    this.state = state;
    this.#partialsTopic = partialsTopic;
    this.#registry = registry;
  }

  static create(options: Omit<Stage1OptionsInput, "partition" | "partitionCount">, partialsTopic: string, registry?: ServiceRegistry) {
    return {
      create: (partition: number, partitionCount: number) =>
        new Stage1Processor(new Stage1Partition({ ...options, partition, partitionCount }), partialsTopic, registry),
      restore: (partition: number, state: string, parts: ReadonlyMap<string, string>) => {
        const parsed = withDedupParts(JSON.parse(state) as CheckpointedStage1, parts);
        return new Stage1Processor(
          Stage1Partition.restore({ ...options, partition, partitionCount: parsed.partitionCount }, parsed),
          partialsTopic,
          registry,
        );
      },
    };
  }

  fold(record: ConsumedRecord, partitionCount: number): StageOutput[] {
    if (record.value === null) throw new ValidationError(`spans record at offset ${record.offset} has no value`);
    return this.#outputs(
      this.state.foldRecord({ value: record.value, timestampMs: record.timestamp, partition: record.partition, partitionCount }),
    );
  }

  tick(nowMs: number): StageOutput[] {
    if (this.#registry !== undefined) {
      this.#registry.report(this.state.knownServices());
      for (const [service, { target, lastSeenMs }] of this.#registry.services()) this.state.knowService(service, target, lastSeenMs);
    }
    return this.#outputs(this.state.tick(nowMs));
  }

  /** The dedup filter's generations go apart as parts: a sealed one is stored once, not at every checkpoint. */
  snapshot(): ProcessorSnapshot {
    const parts = this.state.dedupParts();
    const state: CheckpointedStage1 = { ...this.state.snapshot({ dedupData: false }), dedupParts: parts.map((part) => part.id) };
    return { state: JSON.stringify(state), parts };
  }

  #outputs(out: Stage1Output): StageOutput[] {
    const outputs: StageOutput[] = [];
    for (const partial of out.partials) outputs.push(this.#envelope("meshloop.partial", partial));
    for (const mark of out.progress) outputs.push(this.#envelope("meshloop.progress", mark));
    return outputs;
  }

  #envelope(type: "meshloop.partial" | "meshloop.progress", data: PartialAggregate | ProgressMark): StageOutput {
    const value = type === "meshloop.partial"
      ? encodeEnvelope("meshloop.partial", data as PartialAggregate)
      : encodeEnvelope("meshloop.progress", data);
    return { topic: this.#partialsTopic, record: { key: data.service, value } };
  }
}

/** Stage 2 on one partials partition: partials and progress marks in, final aggregates (keyed by target) out. */
export class Stage2Processor implements PartitionProcessor {
  readonly state: Stage2Merger;
  readonly #aggregatesTopic: string;
  readonly #onAggregate: (aggregate: WindowAggregate) => void;

  constructor(state: Stage2Merger, aggregatesTopic: string, onAggregate: (aggregate: WindowAggregate) => void) {
    this.state = state;
    this.#aggregatesTopic = aggregatesTopic;
    this.#onAggregate = onAggregate;
  }

  /** `onAggregate` sees every aggregate emitted (the dependency graph and /metrics feed on them). */
  static create(options: Stage2OptionsInput, aggregatesTopic: string, onAggregate: (aggregate: WindowAggregate) => void = () => undefined) {
    return {
      create: () => new Stage2Processor(new Stage2Merger(options), aggregatesTopic, onAggregate),
      restore: (_partition: number, state: string) =>
        new Stage2Processor(Stage2Merger.restore(options, JSON.parse(state) as Stage2Snapshot), aggregatesTopic, onAggregate),
    };
  }

  fold(record: ConsumedRecord): StageOutput[] {
    if (record.value === null) throw new ValidationError(`partials record at offset ${record.offset} has no value`);
    const envelope = decodeEnvelope(record.value, ["meshloop.partial", "meshloop.progress"]);
    const aggregates = envelope.type === "meshloop.partial"
      ? this.state.addPartial(envelope.data)
      : this.state.addProgress(envelope.data);
    return this.#outputs(aggregates);
  }

  /** Resource gauges of a service this partition owns (the resource-metrics topic is co-partitioned with partials). */
  addGauges(batch: GaugeBatch): void {
    this.state.addGauges(batch);
  }

  tick(nowMs: number): StageOutput[] {
    return this.#outputs(this.state.tick(nowMs));
  }

  snapshot(): ProcessorSnapshot {
    return { state: JSON.stringify(this.state.snapshot()), parts: [] };
  }

  #outputs(aggregates: WindowAggregate[]): StageOutput[] {
    for (const aggregate of aggregates) this.#onAggregate(aggregate);
    return aggregates.map((aggregate) => ({
      topic: this.#aggregatesTopic,
      record: { key: targetKey(aggregate.target), value: encodeEnvelope("meshloop.aggregate", aggregate) },
    }));
  }
}
