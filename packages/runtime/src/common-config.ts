import { hostname } from "node:os";
import { z } from "zod";
import { envBool, envDurationMs, envEnum, envPort, envString, envUrl } from "./env-values.ts";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** hostname-pid: unique per process on a host, and the pod name under Kubernetes (the hostname is the pod). */
export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

export interface CommonConfigDefaults {
  /** Each service has its own ops port so that several can share a host. */
  httpPort: number;
}

/**
 * The variables every service reads; a service extends this with its own:
 * `commonConfig({ httpPort: 9102 }).extend({ MESHLOOP_KAFKA_BROKERS: envList().describe("…") })`.
 */
export function commonConfig(defaults: CommonConfigDefaults) {
  return z.object({
    MESHLOOP_CONFIG_FILE: envString({ example: "/etc/meshloop/aggregator.json" })
      .optional()
      .describe(
        "A JSON file whose keys are these variable names; values set in the environment override the file.",
      ),
    MESHLOOP_LOG_LEVEL: envEnum(LOG_LEVELS)
      .default("info")
      .describe("Least severe log level written to stdout (JSON lines)."),
    MESHLOOP_HTTP_HOST: envString()
      .default("0.0.0.0")
      .describe(
        "Address the ops HTTP server (/healthz, /readyz, /metrics) listens on. All interfaces by default so that " +
          "probes and Prometheus reach it inside a container; set 127.0.0.1 on a shared host.",
      ),
    MESHLOOP_HTTP_PORT: envPort()
      .default(defaults.httpPort)
      .describe("Port of the ops HTTP server; 0 picks a free port."),
    MESHLOOP_SHUTDOWN_TIMEOUT: envDurationMs({ min: "100ms", max: "10m" })
      .default(10_000)
      .describe(
        "Time allowed on SIGTERM to stop consuming, finish in-flight work, flush and commit; past it the process " +
          "exits with code 1. Keep it below the orchestrator's grace period (30s on Kubernetes).",
      ),
    MESHLOOP_OTEL_ENABLED: envBool()
      .default(false)
      .describe("Export the service's own traces over OTLP. Off by default: the SDK is not even loaded."),
    MESHLOOP_OTEL_EXPORTER_ENDPOINT: envUrl()
      .optional()
      .describe(
        "OTLP/HTTP endpoint for the service's own traces (like http://otel-collector:4318). Unset: the standard " +
          "OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318.",
      ),
    MESHLOOP_SERVICE_INSTANCE_ID: envString()
      .default(defaultInstanceId)
      .meta({
        description: "Names this process in logs (`instance`) and telemetry (service.instance.id).",
        docDefault: "<hostname>-<pid>",
      }),
  });
}

export type CommonConfig = z.output<ReturnType<typeof commonConfig>>;
