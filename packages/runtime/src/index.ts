export { commonConfig, defaultInstanceId, LOG_LEVELS } from "./common-config.ts";
export type { CommonConfig, CommonConfigDefaults, LogLevel } from "./common-config.ts";
export { describeConfig, isSecretVariable, loadConfig, redactConfig } from "./config.ts";
export type { ConfigEnv, ConfigRow, LoadConfigOptions } from "./config.ts";
export {
  envBool,
  envDurationMs,
  envEnum,
  envInt,
  envList,
  envPort,
  envString,
  envUrl,
  formatDuration,
  parseDuration,
} from "./env-values.ts";
export type {
  EnvDurationOptions,
  EnvIntOptions,
  EnvListOptions,
  EnvStringOptions,
  EnvUrlOptions,
} from "./env-values.ts";
export { Health } from "./health.ts";
export type {
  CheckResult,
  HealthOptions,
  HealthPhase,
  ReadinessCheck,
  ReadinessCheckOptions,
  ReadinessReport,
} from "./health.ts";
export { createOpsServer } from "./http-server.ts";
export type { OpsAddress, OpsRequest, OpsResponse, OpsServer, OpsServerOptions, RouteHandler } from "./http-server.ts";
export { Lifecycle } from "./lifecycle.ts";
export type { LifecycleOptions, LifecycleState, ServiceStop, StopOutcome, StopResult } from "./lifecycle.ts";
export { createLogger } from "./logger.ts";
export type { LogDestination, Logger, LoggerOptions } from "./logger.ts";
export { createMetrics } from "./metrics.ts";
export type { Metrics, MetricsOptions } from "./metrics.ts";
export { createServiceRuntime, runProcess, runService } from "./service.ts";
export type {
  ConfigSchema,
  CreateServices,
  ProcessTarget,
  RunProcessOptions,
  RunServiceOptions,
  Service,
  ServiceContext,
  ServiceRuntime,
  ServiceRuntimeOptions,
} from "./service.ts";
export { createTelemetry, getTracer } from "./telemetry.ts";
export type { Telemetry, TelemetryOptions } from "./telemetry.ts";
