import type { DiagLogger, Tracer } from "@opentelemetry/api";
import { trace } from "@opentelemetry/api";
import type { Logger } from "./logger.ts";
import type { Service } from "./service.ts";

/**
 * Self-telemetry: the service's own traces, exported over OTLP/HTTP when MESHLOOP_OTEL_ENABLED is set. The SDK
 * is imported only then, so a service with telemetry off never loads it. Metrics stay with Prometheus (/metrics)
 * and logs with stdout, so the SDK is given no metric readers and no log processors.
 *
 * The exporter packages are dependencies of @opentelemetry/sdk-node, not of this package, so they cannot be
 * imported from here; the SDK builds its default exporter (OTLP, http/protobuf) from the standard OTEL_*
 * variables instead. The endpoint and the instance id are handed over through those variables for the moment
 * the SDK is built, then the environment is put back as it was.
 */

export interface TelemetryOptions {
  enabled: boolean;
  serviceName: string;
  instanceId: string;
  /** OTLP/HTTP base URL (the SDK appends /v1/traces); the SDK's own default or OTEL_* variables unless given. */
  endpoint?: string;
  logger: Logger;
}

export interface Telemetry extends Service {
  readonly enabled: boolean;
}

interface Sdk {
  start(): void;
  shutdown(): Promise<void>;
}

export function createTelemetry(options: TelemetryOptions): Telemetry {
  const { logger } = options;
  let sdk: Sdk | undefined;
  return {
    name: "telemetry",
    enabled: options.enabled,
    async start() {
      if (!options.enabled) return;
      const [{ NodeSDK }, api] = await Promise.all([import("@opentelemetry/sdk-node"), import("@opentelemetry/api")]);
      const attributes = process.env.OTEL_RESOURCE_ATTRIBUTES;
      const instanceAttribute = `service.instance.id=${encodeURIComponent(options.instanceId)}`;
      withEnv(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: options.endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
          // An explicitly set service.instance.id wins over ours.
          OTEL_RESOURCE_ATTRIBUTES: attributes?.includes("service.instance.id=")
            ? attributes
            : [attributes, instanceAttribute].filter((part) => part !== undefined && part !== "").join(","),
        },
        () => {
          const created = new NodeSDK({
            serviceName: options.serviceName,
            metricReaders: [],
            logRecordProcessors: [],
            instrumentations: [],
          });
          created.start();
          sdk = created;
        },
      );
      // Export failures (collector away) surface through OpenTelemetry's diag channel; route it into our logs.
      api.diag.setLogger(diagLogger(logger), api.DiagLogLevel.WARN);
      logger.info({ endpoint: options.endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "http://localhost:4318" }, "telemetry started");
    },
    // Flushes the spans still batched; the Lifecycle bounds how long this may take.
    async stop() {
      if (sdk === undefined) return;
      const stopping = sdk;
      sdk = undefined;
      await stopping.shutdown();
    },
  };
}

/** A tracer for the service's own spans; a no-op one while telemetry is off. */
export function getTracer(name: string, version?: string): Tracer {
  return trace.getTracer(name, version);
}

function withEnv(values: Record<string, string | undefined>, run: () => void): void {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  try {
    run();
  } finally {
    apply(saved);
  }
}

function diagLogger(logger: Logger): DiagLogger {
  const child = logger.child({ component: "opentelemetry" });
  const write = (level: "error" | "warn" | "info" | "debug" | "trace") => (message: string, ...args: unknown[]) => {
    child[level](args.length === 0 ? {} : { args: args.map((arg) => (arg instanceof Error ? arg.message : arg)) }, message);
  };
  return { error: write("error"), warn: write("warn"), info: write("info"), debug: write("debug"), verbose: write("trace") };
}
