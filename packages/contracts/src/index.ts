export { actuationResultSchema, actuationStatusSchema, resourceResultSchema } from "./actuation.ts";
export type { ActuationResult, ActuationStatus, ResourceResult } from "./actuation.ts";
export {
  aggregateId,
  connectionTypeSchema,
  edgeSeriesSchema,
  emptySketch,
  instanceSeriesSchema,
  latencySketchSchema,
  localitySchema,
  OTHER_ROUTE,
  partialAggregateSchema,
  partialId,
  progressId,
  progressMarkSchema,
  resourceGaugesSchema,
  routeSeriesSchema,
  seriesCountersSchema,
  sketchGamma,
  spanCountsSchema,
  statusCountsSchema,
  windowAggregateSchema,
} from "./aggregates.ts";
export type {
  EdgeSeries,
  InstanceSeries,
  LatencySketch,
  Locality,
  PartialAggregate,
  ProgressMark,
  ResourceGauges,
  RouteSeries,
  SeriesCounters,
  SpanCounts,
  WindowAggregate,
} from "./aggregates.ts";
export {
  CAPABILITIES,
  CAPABILITY_PARTS,
  capabilityOf,
  capabilityPartSchema,
  requiredParts,
  unsupportedParts,
} from "./capabilities.ts";
export type { Capability, CapabilityPart } from "./capabilities.ts";
export {
  CLOUD_EVENT_TYPES,
  CLOUDEVENTS_SPEC_VERSION,
  cloudEventDataSchemas,
  fromCloudEventMessage,
  GLOBAL_SUBJECT,
  subjectOf,
  toCloudEventMessage,
} from "./cloudevents.ts";
export type {
  CloudEvent,
  CloudEventData,
  CloudEventDataInput,
  CloudEventInput,
  CloudEventMessage,
  CloudEventType,
  IncomingMessage,
} from "./cloudevents.ts";
export { CONTROL_COMMANDS, controlCommandNameSchema, controlCommandSchema, pauseNoticeSchema } from "./control.ts";
export type { ControlCommand, ControlCommandName, PauseNotice } from "./control.ts";
export { CONTROLLERS, controllerSchema, decisionSchema, evidenceSchema } from "./decision.ts";
export type { Controller, Decision, Evidence } from "./decision.ts";
export {
  connectionLimitsSchema,
  deniedCallerSchema,
  desiredStateSchema,
  ejectionSchema,
  emptyDesiredState,
  failoverSchema,
  instanceEjectionSchema,
  nextLeaseExpiry,
  pruneExpiredLeases,
  rateLimitSchema,
  replicasSchema,
  RETRY_CONDITIONS,
  retryConditionSchema,
  retryPolicySchema,
  weightsSchema,
} from "./desired-state.ts";
export type {
  ConnectionLimits,
  DeniedCaller,
  DesiredState,
  Ejection,
  Failover,
  InstanceEjection,
  RateLimit,
  Replicas,
  RetryCondition,
  RetryPolicy,
  Weights,
} from "./desired-state.ts";
export {
  decodeEnvelope,
  encodeEnvelope,
  ENVELOPE_TYPES,
  ENVELOPE_VERSION,
  envelopeDataSchemas,
  envelopeSchema,
} from "./envelope.ts";
export type { Envelope, EnvelopeData, EnvelopeDataInput, EnvelopeType } from "./envelope.ts";
export { jsonSchemaFiles } from "./json-schema.ts";
export type { JsonSchemaFile } from "./json-schema.ts";
export { fnv1a32, saramaPartition, spanPartition } from "./partitioning.ts";
export {
  callerIdentity,
  MESHES,
  meshSchema,
  parseTargetKey,
  resolutionConfigSchema,
  resolveTarget,
  sameTarget,
  subsetFor,
  targetKey,
  targetRefSchema,
} from "./target.ts";
export type { Mesh, ResolutionConfig, ResolutionConfigInput, ResolveResult, TargetRef } from "./target.ts";
export { TOPIC_IDS, topicNames, TOPICS } from "./topics.ts";
export type { TopicId, TopicSpec } from "./topics.ts";
export { formatIssues, parseOrThrow } from "./validation.ts";
export { gaugeBatchSchema, gaugeKindSchema, gaugeSampleSchema } from "./gauges.ts";
export type { GaugeBatch, GaugeKind, GaugeSample } from "./gauges.ts";
