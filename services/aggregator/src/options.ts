import { formatIssues, resolutionConfigSchema } from "@meshloop/contracts";
import { ConfigError } from "@meshloop/errors";
import { z } from "zod";
import { DEFAULT_GRPC_ERROR_CODES } from "./spans/classify.ts";

/**
 * The aggregator's settings, validated once with their defaults. Times are milliseconds. The wiring reads them from
 * the environment; here they are plain objects so that tests can build any configuration.
 */

const ms = z.int().min(0);
const MINUTES_10 = 600_000;

const sketchSchema = z.object({
  relativeAccuracy: z.number().gt(0).lt(0.5).default(0.01),
  /** 320 bins span a ratio of about 600 between the lowest and highest latency at 1% (see bench). */
  maxBins: z.int().min(16).max(4096).default(320),
});

const windowMsSchema = z.int().min(1000).max(60_000).default(5000);

export const stage1OptionsSchema = z
  .object({
    /** The spans-topic partition this state folds. */
    partition: z.int().min(0),
    /** Partitions of the spans topic (records update it; progress marks and idle ticks need it before any record). */
    partitionCount: z.int().positive(),
    /** How telemetry maps to targets (the mesh, default namespace, overrides). */
    resolution: resolutionConfigSchema,
    /** Tumbling, epoch-aligned event-time windows. */
    windowMs: windowMsSchema,
    /** The watermark trails the highest record timestamp by this much (SDK exporters batch for up to 5 s). */
    allowedLatenessMs: ms.default(5000),
    /** A span whose end time is further than this from its record timestamp is re-timed to the record timestamp. */
    skewBoundMs: z.int().min(1).default(60_000),
    /** Unpaired CLIENT/SERVER spans expire this long (in watermark time) after their end time (see edges.ts). */
    pairingTtlMs: ms.default(2000),
    /** Spans waiting for their partner, at most; beyond, new ones are dropped from pairing and counted. */
    maxPendingSpans: z.int().positive().default(200_000),
    /** Distinct routes per service with their own series; the rest go to `other`. */
    routeLimit: z.int().positive().default(200),
    /** A service or route unseen this long is forgotten (no more progress marks, its route slot freed). */
    seriesTtlMs: z.int().positive().default(MINUTES_10),
    dedup: z
      .object({
        horizonMs: z.int().positive().default(300_000),
        maxEntries: z.int().positive().default(2_097_152),
        generations: z.int().min(2).max(64).default(4),
      })
      .prefault({}),
    /** gRPC status codes that count as errors. */
    grpcErrorCodes: z.array(z.int().min(0).max(16)).default([...DEFAULT_GRPC_ERROR_CODES]),
    sketch: sketchSchema.prefault({}),
  })
  .refine((o) => o.partition < o.partitionCount, { error: "partition must be below partitionCount", path: ["partition"] });
export type Stage1Options = z.output<typeof stage1OptionsSchema>;
export type Stage1OptionsInput = z.input<typeof stage1OptionsSchema>;

export const stage2OptionsSchema = z.object({
  windowMs: windowMsSchema,
  /**
   * A window still missing partitions is emitted anyway once the stage-2 clock (the highest watermark any partition
   * reported, or `tick`'s time) is this far past its end; the aggregate names the missing partitions.
   */
  completenessTimeoutMs: z.int().positive().default(30_000),
  /**
   * Never give up on a partition whose watermark still moves in `tick` time (a backlog being read), and before the
   * first tick assume every partition does. The service runs with it; without ticks (pure use) leave it off.
   */
  waitForMovingPartitions: z.boolean().default(false),
  /** A known series with no data is reported with zero requests until it has had none for this long. */
  seriesTtlMs: z.int().positive().default(MINUTES_10),
  /** How long a finished window's contributors are remembered, to tell a late partial from a duplicate. */
  lateRetentionMs: z.int().positive().default(MINUTES_10),
  /** Largest JSON (bytes) of one aggregate's data; larger ones are split into parts. Kafka's default is 1 MiB. */
  maxAggregateBytes: z.int().min(4096).default(1_000_000),
  /** Routes per service in the final aggregate (partitions admit routes independently, so stage 2 caps again). */
  routeLimit: z.int().positive().default(200),
  sketch: sketchSchema.prefault({}),
});
export type Stage2Options = z.output<typeof stage2OptionsSchema>;
export type Stage2OptionsInput = z.input<typeof stage2OptionsSchema>;

export const graphOptionsSchema = z.object({
  /** An edge without traffic for this long leaves the graph. */
  ttlMs: z.int().positive().default(MINUTES_10),
  /** Rate and error rate are over the windows of this last stretch of event time. */
  rateWindowMs: z.int().positive().default(60_000),
});
export type GraphOptions = z.output<typeof graphOptionsSchema>;
export type GraphOptionsInput = z.input<typeof graphOptionsSchema>;

export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(`invalid ${what}: ${formatIssues(result.error)}`, { cause: result.error });
}
