import { z } from "zod";
import { targetRefSchema } from "./target.ts";
import { issue } from "./validation.ts";

/**
 * What the aggregator's two stages publish. Stage 1 (one per spans partition) folds spans into per-service partials
 * per window; stage 2 merges the partials of all spans partitions into one WindowAggregate per service and window.
 * Counts are weighted by each span's adjusted count (1 / sampling probability), so they may be non-integer.
 * Windows are aligned to the epoch (`windowStartMs % windowMs == 0`) so every partition cuts the same windows.
 */
const count = z.number().min(0);
const epochMs = z.int().min(0);

/**
 * A DDSketch-style latency sketch in milliseconds: bin `i` counts values in (gamma^(i-1), gamma^i] with
 * gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy); values too small to index count in `zeroCount`.
 * Bins are sparse, `indexes` strictly increasing with `counts` parallel, so sketches merge by adding counts.
 * Latencies are never negative, so there is no negative store.
 */
export const latencySketchSchema = z
  .object({
    relativeAccuracy: z.number().gt(0).lt(1).default(0.01),
    indexes: z.array(z.int()),
    counts: z.array(z.number().positive()),
    zeroCount: count,
    count,
    sum: count,
    min: count,
    max: count,
  })
  .superRefine((s, ctx) => {
    if (s.indexes.length !== s.counts.length) {
      issue(ctx, `indexes (${s.indexes.length}) and counts (${s.counts.length}) differ in length`, ["counts"]);
      return;
    }
    for (let i = 1; i < s.indexes.length; i++) {
      if (s.indexes[i]! <= s.indexes[i - 1]!) {
        issue(ctx, "indexes must be strictly increasing", ["indexes", i]);
        return;
      }
    }
    const binned = s.counts.reduce((a, b) => a + b, s.zeroCount);
    // Float sums of weighted counts differ in the last bits depending on the order of addition.
    if (Math.abs(binned - s.count) > 1e-9 * Math.max(1, s.count)) {
      issue(ctx, `count ${s.count} is not zeroCount + sum of counts (${binned})`, ["count"]);
    }
    if (s.count > 0 && s.min > s.max) issue(ctx, "min is above max", ["min"]);
  });
export type LatencySketch = z.output<typeof latencySketchSchema>;

export function sketchGamma(relativeAccuracy: number): number {
  return (1 + relativeAccuracy) / (1 - relativeAccuracy);
}

export function emptySketch(relativeAccuracy = 0.01): LatencySketch {
  return { relativeAccuracy, indexes: [], counts: [], zeroCount: 0, count: 0, sum: 0, min: 0, max: 0 };
}

/** Response classes; `4xx` includes `401` and `403`, which are broken out because they signal auth trouble. */
export const statusCountsSchema = z.object({
  "2xx": count,
  "3xx": count,
  "4xx": count,
  "401": count,
  "403": count,
  "5xx": count,
  grpcErrors: count,
});

export const seriesCountersSchema = z.object({
  requests: count,
  errors: count,
  status: statusCountsSchema,
  latency: latencySketchSchema,
  /** `unknown`: some spans had no usable sampling information and were counted as 1 each. */
  sampling: z.enum(["known", "unknown"]),
});
export type SeriesCounters = z.output<typeof seriesCountersSchema>;

export const localitySchema = z.object({
  region: z.string().nullable(),
  zone: z.string().nullable(),
  cluster: z.string().nullable(),
});
export type Locality = z.infer<typeof localitySchema>;

/** One service x version x instance (the service is the aggregate's). */
export const instanceSeriesSchema = z.object({
  version: z.string().min(1),
  instance: z.string().min(1),
  locality: localitySchema,
  counters: seriesCountersSchema,
});
export type InstanceSeries = z.output<typeof instanceSeriesSchema>;

/** The bucket routes go to once a service has more distinct routes than the cardinality limit. */
export const OTHER_ROUTE = "other";

export const routeSeriesSchema = z
  .object({
    version: z.string().min(1),
    route: z.string().min(1),
    overflow: z.boolean(),
    counters: seriesCountersSchema,
  })
  .refine((r) => !r.overflow || r.route === OTHER_ROUTE, {
    error: `the overflow series must have route "${OTHER_ROUTE}"`,
    path: ["route"],
  });
export type RouteSeries = z.output<typeof routeSeriesSchema>;

/** Service-graph connection types, as the Collector's servicegraph connector names them (`direct` = unset). */
export const connectionTypeSchema = z.enum(["direct", "virtual_node", "messaging_system", "database"]);

/** A caller -> callee edge; a virtual callee is uninstrumented, named from `peer.service`, `db.name` and the like. */
export const edgeSeriesSchema = z.object({
  caller: z.object({ service: z.string().min(1), namespace: z.string().nullable() }),
  callee: z.object({ service: z.string().min(1), namespace: z.string().nullable(), virtual: z.boolean() }),
  connectionType: connectionTypeSchema,
  counters: seriesCountersSchema,
});
export type EdgeSeries = z.output<typeof edgeSeriesSchema>;

/** Last values in the window per instance, null where none came. Utilizations are ratios (1 = 100%). */
export const resourceGaugesSchema = z.object({
  instance: z.string().min(1),
  version: z.string().nullable(),
  cpuUtilization: count.nullable(),
  memoryUtilization: count.nullable(),
  memoryBytes: count.nullable(),
});
export type ResourceGauges = z.infer<typeof resourceGaugesSchema>;

/**
 * Raw span counts (not weighted) for judging the data: late = arrived after the window closed, skewed = timestamps
 * off by more than the skew tolerance, duplicate = seen before and dropped.
 */
export const spanCountsSchema = z.object({
  accepted: z.int().min(0),
  late: z.int().min(0),
  skewed: z.int().min(0),
  duplicate: z.int().min(0),
});
export type SpanCounts = z.infer<typeof spanCountsSchema>;

export function partialId(service: string, windowStartMs: number, windowMs: number, partition: number): string {
  return `partial:${service}:${windowStartMs}:${windowMs}:${partition}`;
}

export function progressId(service: string, partition: number, watermarkMs: number): string {
  return `progress:${service}:${partition}:${watermarkMs}`;
}

export function aggregateId(
  service: string,
  windowStartMs: number,
  windowMs: number,
  partIndex: number,
  partCount: number,
): string {
  return `aggregate:${service}:${windowStartMs}:${windowMs}:${partIndex}/${partCount}`;
}

const windowFields = {
  /** The telemetry `service.name`; keys the partials topic and the ids. */
  service: z.string().min(1),
  target: targetRefSchema,
  windowStartMs: epochMs,
  windowMs: z.int().positive(),
  series: z.array(instanceSeriesSchema),
  routes: z.array(routeSeriesSchema),
  /** Edges whose callee is this service. */
  inbound: z.array(edgeSeriesSchema),
  /** Edges whose caller is this service. */
  outbound: z.array(edgeSeriesSchema),
  spans: spanCountsSchema,
};

function checkWindow(w: { windowStartMs: number; windowMs: number }, ctx: z.RefinementCtx): void {
  if (w.windowStartMs % w.windowMs !== 0) {
    issue(ctx, `windowStartMs ${w.windowStartMs} is not aligned to windowMs ${w.windowMs}`, ["windowStartMs"]);
  }
}

function checkId(actual: string, expected: string, ctx: z.RefinementCtx): void {
  if (actual !== expected) issue(ctx, `id must be ${expected}, got ${actual}`, ["id"]);
}

/** Stage 1's fold of one spans partition for one service and window. */
export const partialAggregateSchema = z
  .object({
    id: z.string(),
    ...windowFields,
    /** The spans partition this came from, and how many the spans topic has (to know when all have reported). */
    partition: z.int().min(0),
    sourcePartitions: z.int().positive(),
    /** The partition's event-time watermark when this was emitted. */
    watermarkMs: epochMs,
    /** 0 at first; a late correction restates the whole partial with revision + 1, and stage 2 keeps the highest. */
    revision: z.int().min(0),
  })
  .superRefine((p, ctx) => {
    checkWindow(p, ctx);
    checkId(p.id, partialId(p.service, p.windowStartMs, p.windowMs, p.partition), ctx);
    if (p.partition >= p.sourcePartitions) {
      issue(ctx, `partition ${p.partition} is not below sourcePartitions ${p.sourcePartitions}`, ["partition"]);
    }
  });
export type PartialAggregate = z.output<typeof partialAggregateSchema>;

/**
 * Stage 1 partition `partition` has passed `watermarkMs` for `service`: every window ending by then is final from it
 * (but for late corrections). Sent even when the partition saw no spans of the service, so stage 2 can close windows.
 */
export const progressMarkSchema = z
  .object({
    id: z.string(),
    service: z.string().min(1),
    partition: z.int().min(0),
    sourcePartitions: z.int().positive(),
    watermarkMs: epochMs,
  })
  .superRefine((m, ctx) => checkId(m.id, progressId(m.service, m.partition, m.watermarkMs), ctx));
export type ProgressMark = z.output<typeof progressMarkSchema>;

/** Stage 2's result for one service and window; large ones are split into parts that together hold all series. */
export const windowAggregateSchema = z
  .object({
    id: z.string(),
    ...windowFields,
    resources: z.array(resourceGaugesSchema),
    completeness: z.object({ complete: z.boolean(), missingPartitions: z.array(z.int().min(0)) }),
    part: z.object({ index: z.int().min(0), count: z.int().positive() }),
  })
  .superRefine((a, ctx) => {
    checkWindow(a, ctx);
    checkId(a.id, aggregateId(a.service, a.windowStartMs, a.windowMs, a.part.index, a.part.count), ctx);
    if (a.part.index >= a.part.count) {
      issue(ctx, `part index ${a.part.index} is not below part count ${a.part.count}`, ["part", "index"]);
    }
    if (a.completeness.complete && a.completeness.missingPartitions.length > 0) {
      issue(ctx, "complete but with missing partitions", ["completeness", "complete"]);
    }
  });
export type WindowAggregate = z.output<typeof windowAggregateSchema>;
