export { ADMIN_PATH_PREFIX, putBodySchema, startAdminApi } from "./admin-api.ts";
export type { AdminApi, AdminApiOptions } from "./admin-api.ts";
export { DataPlane } from "./data-plane.ts";
export type {
  AttemptRequest,
  CallOutcome,
  CallResult,
  Caller,
  DataPlaneOptions,
  TargetCounters,
  Transport,
} from "./data-plane.ts";
export { ExportLedger } from "./export-ledger.ts";
export type { ExportedSpans } from "./export-ledger.ts";
export { FaultInjector, faultActive, faultHits, planRequest } from "./faults.ts";
export type { Fault, FaultEffect, FaultInput, FaultScope, InstanceRef, RequestContext, RequestPlan } from "./faults.ts";
export { LabInstance } from "./instance.ts";
export type { InstanceCounters, InstanceDeps } from "./instance.ts";
export { Lab, startLab } from "./lab.ts";
export type { ExternalCaller, InstanceSummary, LabCounters, LabOptions } from "./lab.ts";
export { callThroughDataPlane, sendRequest } from "./outbound.ts";
export type { OutboundDeps, OutboundTracing } from "./outbound.ts";
export { logNormal, seededRandom } from "./random.ts";
export type { Random } from "./random.ts";
export { planReplicas } from "./replicas.ts";
export {
  chooseVersion,
  denialOf,
  ejectedInstances,
  failed,
  retryBackoffMs,
  retryCovers,
  RetryBudget,
  RoundRobin,
} from "./route-decisions.ts";
export type { AttemptOutcome, Endpoint } from "./route-decisions.ts";
export { RouteTable } from "./route-table.ts";
export type { ApplyResult, RouteEntry } from "./route-table.ts";
export { emptyExportCounters, instanceTelemetry, tracesUrl } from "./telemetry.ts";
export type { ExportCounters, IngestTarget, InstanceResource, InstanceTelemetry } from "./telemetry.ts";
export { defaultTopology, expectedSpans, findRoute, findService, topologyProblems } from "./topology.ts";
export type { CallSpec, LatencySpec, RouteSpec, ServiceSpec, Topology, VersionSpec } from "./topology.ts";
export { LoadGenerator, pickRoute, rateAt, startLoad } from "./load.ts";
export type { ExtraCallerSpec, LoadCounters, LoadOptions, RateProfile, RouteMixEntry } from "./load.ts";
export { duration, loadScenario, scenarioSchema } from "./scenario/schema.ts";
export type { Expectation, Scenario, ScenarioFault } from "./scenario/schema.ts";
export { countReversals, judge, settled } from "./scenario/verdicts.ts";
export type { RunRecord, SeenDecision, Verdict, VerdictState } from "./scenario/verdicts.ts";
