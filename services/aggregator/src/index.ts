/**
 * The aggregator's pure core: spans in, golden signals out, no I/O and no clock (time is passed in), every state
 * snapshot-able to JSON. The Kafka/Redis wiring (src/service) runs it.
 *
 *   spans/    read the OTLP wire once per span: attributes, classification, sampling weight
 *   sketch/   DDSketch (1% relative accuracy, bounded bins, mergeable)
 *   series/   counters per series (requests, errors, status classes, latency) and the lists of a window
 *   stage1/   per spans partition: dedup, windows and watermark, edges by pairing, partials and progress marks
 *   stage2/   per service: merge partials of all partitions into final aggregates (completeness, zero fill, parts)
 *   graph/    the live dependency graph built from final aggregates
 */
export { DependencyGraph } from "./graph/graph.ts";
export type { GraphEdge, GraphJson, GraphNode, GraphSnapshot } from "./graph/graph.ts";
export { graphOptionsSchema, parseOptions, stage1OptionsSchema, stage2OptionsSchema } from "./options.ts";
export type {
  GraphOptions,
  GraphOptionsInput,
  Stage1Options,
  Stage1OptionsInput,
  Stage2Options,
  Stage2OptionsInput,
} from "./options.ts";
export {
  Counters,
  STATUS_2XX,
  STATUS_3XX,
  STATUS_401,
  STATUS_403,
  STATUS_4XX,
  STATUS_5XX,
  STATUS_GRPC_ERROR,
} from "./series/counters.ts";
export { edgeKey, instanceKey, routeKey, SeriesSet } from "./series/series-set.ts";
export type { ConnectionType, EdgeCallee, EdgeCaller, SeriesLists } from "./series/series-set.ts";
export { DDSketch, DEFAULT_SKETCH_OPTIONS } from "./sketch/ddsketch.ts";
export type { SketchOptions } from "./sketch/ddsketch.ts";
export { CollapsingLowestDenseStore } from "./sketch/dense-store.ts";
export { LogMapping } from "./sketch/mapping.ts";
export {
  DEFAULT_GRPC_ERROR_CODES,
  isCallError,
  isServiceError,
  routeOf,
  statusBits,
  virtualPeerOf,
} from "./spans/classify.ts";
export type { PeerAttributes, SpanResponse, VirtualPeer } from "./spans/classify.ts";
export { attributeAdjustedCount, thresholdAdjustedCount, tracestateAdjustedCount } from "./spans/sampling.ts";
export type { SamplingAttributes } from "./spans/sampling.ts";
export { DedupFilter } from "./stage1/dedup.ts";
export type { DedupOptions, DedupPart, DedupSnapshot } from "./stage1/dedup.ts";
export type { EdgeEvent, PairingCounts } from "./stage1/edges.ts";
export type { SpanRecord, Stage1Counters, Stage1Output, Stage1Snapshot, Stage1Stats } from "./stage1/io.ts";
export { Stage1Partition } from "./stage1/stage1.ts";
export { windowStartOf } from "./stage1/windows.ts";
export type { Stage2Counters, Stage2Snapshot } from "./stage2/service-state.ts";
export { Stage2Merger } from "./stage2/stage2.ts";
export { splitAggregate } from "./stage2/split.ts";
