import type { Bus, OutgoingRecord, Producer } from "@meshloop/bus";
import type { GaugeSample, TopicId } from "@meshloop/contracts";
import { encodeEnvelope } from "@meshloop/contracts";
import { MeshloopError, UnavailableError } from "@meshloop/errors";
import type { AttributeFilterOptions, GaugeExtraction, MetricsPartialSuccess, TracePartialSuccess } from "@meshloop/otlp";
import { splitTraceRequest } from "@meshloop/otlp";
import type { Reservation } from "./inflight.ts";
import type { IngestMetrics } from "./ingest-metrics.ts";

export interface PipelineOptions {
  bus: Bus;
  topics: Readonly<Record<TopicId, string>>;
  maxMessageBytes: number;
  produceTimeoutMs: number;
  metrics: IngestMetrics;
  /** One object for the process's life: the split compiles it once and caches it by identity. */
  attributes?: AttributeFilterOptions;
}

/** Spans topic partitions are re-read this often, so added partitions are used without a restart. */
const partitionRefreshMs = 30_000;

/**
 * From a decoded-enough request to Kafka: spans are split by trace partition on the wire and written as OTLP
 * protobuf; resource gauges as one JSON batch per service. An answer of success means Kafka acknowledged every
 * record on all in-sync replicas; anything else throws UnavailableError, which receivers turn into "retry later".
 */
export class IngestPipeline {
  readonly #options: PipelineOptions;
  readonly #producer: Producer;
  #spanPartitions = 0;
  #partitionsReadAt = 0;
  #nonce = 0;
  /** Set when a send timed out; cleared by the next acknowledgement. */
  #kafkaStalled = false;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#producer = options.bus.producer({ lingerMs: 1 });
  }

  async start(): Promise<void> {
    await this.#producer.connect();
    await this.#refreshPartitions();
  }

  async stop(): Promise<void> {
    await this.#producer.close();
  }

  get pendingBytes(): number {
    return this.#producer.pendingBytes;
  }

  /** `reservation` is held until Kafka is done with the records, even when the answer came first (a timeout). */
  async exportTraces(body: Uint8Array, receivedAtMs: number, reservation: Reservation): Promise<TracePartialSuccess> {
    if (Date.now() - this.#partitionsReadAt > partitionRefreshMs) await this.#refreshPartitions();
    const split = splitTraceRequest(body, {
      partitionCount: this.#spanPartitions,
      maxMessageBytes: this.#options.maxMessageBytes,
      ...(this.#options.attributes === undefined ? {} : { attributes: this.#options.attributes }),
    });
    const { spans, strippedAttributes } = this.#options.metrics;
    if (split.strippedAttributes > 0) strippedAttributes.inc(split.strippedAttributes);
    spans.inc({ outcome: "received" }, split.acceptedSpans + split.rejectedSpans);
    if (split.rejectedSpans > 0) spans.inc({ outcome: "rejected" }, split.rejectedSpans);
    const result = { rejectedSpans: split.rejectedSpans, errorMessage: split.errorMessage };
    if (split.messages.length === 0) return result;
    const records: OutgoingRecord[] = split.messages.map((message) => ({
      key: null,
      value: message.value,
      partition: message.partition,
      timestamp: receivedAtMs,
    }));
    await this.#send("spans", records, reservation);
    spans.inc({ outcome: "accepted" }, split.acceptedSpans);
    return result;
  }

  async exportGauges(extraction: GaugeExtraction, receivedAtMs: number, reservation: Reservation): Promise<MetricsPartialSuccess> {
    const { points } = this.#options.metrics;
    if (extraction.droppedPoints > 0) points.inc({ outcome: "dropped" }, extraction.droppedPoints);
    if (extraction.rejectedPoints > 0) points.inc({ outcome: "rejected" }, extraction.rejectedPoints);
    const result = { rejectedDataPoints: extraction.rejectedPoints, errorMessage: extraction.errorMessage };
    if (extraction.gauges.length === 0) return result;
    const byService = new Map<string, GaugeSample[]>();
    for (const gauge of extraction.gauges) {
      const samples = byService.get(gauge.service) ?? [];
      samples.push({
        instance: gauge.instance,
        namespace: gauge.namespace ?? null,
        version: gauge.version ?? null,
        region: gauge.region ?? null,
        zone: gauge.zone ?? null,
        cluster: gauge.cluster ?? null,
        metric: gauge.metric,
        kind: gauge.kind,
        value: gauge.value,
        timeUnixMs: gauge.timeUnixMs,
      });
      byService.set(gauge.service, samples);
    }
    const records: OutgoingRecord[] = [];
    for (const [service, samples] of byService) {
      const id = `gauges:${service}:${receivedAtMs}:${++this.#nonce}`;
      records.push({ key: service, value: encodeEnvelope("meshloop.gauges", { id, service, receivedAtMs, samples }), timestamp: receivedAtMs });
    }
    await this.#send("resourceMetrics", records, reservation);
    points.inc({ outcome: "accepted" }, extraction.gauges.length);
    return result;
  }

  /** Resolves when Kafka acknowledged; rejects with UnavailableError on failure or after the produce timeout. */
  #send(topic: TopicId, records: OutgoingRecord[], reservation: Reservation): Promise<void> {
    // While earlier records wait for a Kafka that stopped answering, queueing more would only turn each client retry
    // into one more copy once Kafka is back: refuse at once instead, until the queue drains or Kafka acknowledges.
    if (this.#kafkaStalled && this.#producer.pendingBytes > 0) {
      return Promise.reject(new UnavailableError("Kafka is not acknowledging writes; retry later"));
    }
    const started = performance.now();
    const sending = this.#producer.send(this.#options.topics[topic], records).then(() => {
      this.#kafkaStalled = false;
      this.#options.metrics.produce.observe((performance.now() - started) / 1000);
    });
    reservation.holdUntil(sending);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#kafkaStalled = true;
        reject(new UnavailableError(`Kafka did not acknowledge within ${this.#options.produceTimeoutMs} ms`));
      }, this.#options.produceTimeoutMs);
    });
    return Promise.race([sending, timeout])
      .catch((error: unknown) => {
        if (error instanceof UnavailableError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new UnavailableError(`Kafka did not store the data: ${message}`, {
          cause: error,
          context: { topic: this.#options.topics[topic], retriable: error instanceof MeshloopError ? error.retriable : true },
        });
      })
      .finally(() => clearTimeout(timer));
  }

  async #refreshPartitions(): Promise<void> {
    this.#spanPartitions = await this.#options.bus.partitionCount(this.#options.topics.spans);
    this.#partitionsReadAt = Date.now();
  }
}
