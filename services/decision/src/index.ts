export { ACTION_KINDS, actionRank, noAction } from "./controller.ts";
export type { ActionKind, ControllerFn, ControllerOutput, DesiredParts, Proposal } from "./controller.ts";
export { applyControl } from "./control.ts";
export type { ControlOutcome } from "./control.ts";
export { canaryCommand, canaryController, canaryEffective } from "./controllers/canary.ts";
export { judgeWindow } from "./controllers/canary-judgement.ts";
export type { CanarySettings, WindowJudgement, WindowVerdict } from "./controllers/canary-judgement.ts";
export { alphaPerTest, initialCanaryState } from "./controllers/canary-state.ts";
export type { CanaryOutcome, CanaryPhase, CanaryState, LatencyTestState, StepStats } from "./controllers/canary-state.ts";
export { ejectionController, initialEjectionState } from "./controllers/ejection.ts";
export type { EjectionSettings, EjectionState, InstanceRecord } from "./controllers/ejection.ts";
export { initialRetriesState, retriesController } from "./controllers/retries.ts";
export type { RetriesState } from "./controllers/retries.ts";
export { initialScalingState, scalingController } from "./controllers/scaling.ts";
export type { ScaleUp, ScalingState } from "./controllers/scaling.ts";
export { failoverController, initialFailoverState, localityKey } from "./controllers/failover.ts";
export type { FailoverSettings, FailoverState, LocalityRecord } from "./controllers/failover.ts";
export { backpressureController, connectionLimitsFor, initialBackpressureState } from "./controllers/backpressure.ts";
export type { BackpressureState } from "./controllers/backpressure.ts";
export { initialSecurityState, securityController } from "./controllers/security.ts";
export { initialRoutingState, routingController } from "./controllers/routing.ts";
export type { RoutingSettings, RoutingState, VersionHealth } from "./controllers/routing.ts";
export type { CallerRecord, SecurityState, SecuritySettings } from "./controllers/security.ts";
export { approvedDenials, callerKey, liveRejections, rejectionUntil } from "./approval.ts";
export type { AwaitingApproval, RejectedCaller } from "./approval.ts";
export { CONTEXT_DEFAULTS, evaluateTarget, guardrailEvidence, markEffective, recordActuation } from "./evaluate.ts";
export type { ControllerReport, EvaluateContext, Evaluation } from "./evaluate.ts";
export { canonical, composeDesiredState, sameDesiredState } from "./guardrails/compose.ts";
export { generationWindowEnd, nextGeneration, SEQUENCE_SPAN } from "./guardrails/generation.ts";
export {
  actionsInMinute,
  checkCooldown,
  checkGlobalBudget,
  checkRate,
  deadTimeMs,
  effectiveCooldownMs,
  logAction,
  MINUTE_MS,
  recentActions,
} from "./guardrails/limits.ts";
export type { ActionSeconds, DeadTimeParts, LimitCheck } from "./guardrails/limits.ts";
export { selectAction } from "./guardrails/priority.ts";
export type { Candidate, Selection } from "./guardrails/priority.ts";
export { normalizeWeights, weightsSum } from "./guardrails/weights.ts";
export { policyDefaults, policyDefaultsMarkdown } from "./policy/defaults.ts";
export type { DefaultRow } from "./policy/defaults.ts";
export { loadPolicies } from "./policy/load.ts";
export {
  canaryPolicySchema,
  durationMs,
  ejectionPolicySchema,
  guardrailPolicySchema,
  policyFileSchema,
  policySchema,
  retriesPolicySchema,
  scalingPolicySchema,
  failoverPolicySchema,
  backpressurePolicySchema,
  routingPolicySchema,
  securityPolicySchema,
  selectorSchema,
} from "./policy/schema.ts";
export type {
  CanaryPolicy,
  EjectionPolicy,
  GuardrailPolicy,
  Policy,
  PolicyFile,
  PolicyInput,
  RetriesPolicy,
  ScalingPolicy,
  FailoverPolicy,
  BackpressurePolicy,
  RoutingPolicy,
  SecurityPolicy,
  Selector,
} from "./policy/schema.ts";
export { matches, policyWith, selectPolicy } from "./policy/select.ts";
export {
  compareLatency,
  exceedances,
  minCountFor,
  referenceIndex,
  toleranceShift,
} from "./statistics/latency.ts";
export type { Exceedances, LatencyVerdict, QuantileComparison, QuantileTolerance } from "./statistics/latency.ts";
export {
  DEFAULT_RATIO_GRID,
  newSplitTest,
  splitProbability,
  splitTestVerdict,
  updateSplitTest,
} from "./statistics/sequential.ts";
export type { SplitObservation, SplitTestConfig, SplitTestState, SplitTestVerdict } from "./statistics/sequential.ts";
export {
  binValue,
  countAbove,
  mergedQuantile,
  mergeSketches,
  mergeTwo,
  quantileIndex,
  sketchIndex,
  sketchQuantile,
} from "./statistics/sketch.ts";
export { initialGlobalState, initialTargetState } from "./target-state.ts";
export type { GlobalState, TargetState } from "./target-state.ts";
export { newerThan, totalLatency, versionTotals, windowViews } from "./windows.ts";
export type { InstanceTotals, SeriesTotals, TotalLatency, WindowView } from "./windows.ts";
