import { ConfigError } from "@meshloop/errors";
import type { z } from "zod";
import type { CommonConfig } from "./common-config.ts";
import type { ConfigEnv } from "./config.ts";
import { loadConfig, redactConfig } from "./config.ts";
import { Health } from "./health.ts";
import type { OpsServer } from "./http-server.ts";
import { createOpsServer } from "./http-server.ts";
import type { StopResult } from "./lifecycle.ts";
import { Lifecycle } from "./lifecycle.ts";
import type { LogDestination, Logger } from "./logger.ts";
import { createLogger } from "./logger.ts";
import type { Metrics, MetricsOptions } from "./metrics.ts";
import { createMetrics } from "./metrics.ts";
import { createTelemetry } from "./telemetry.ts";

/**
 * Something with a start-up and a shutdown. stop() is where a service stops consuming, finishes in-flight work,
 * flushes producers and commits offsets; it must resolve once that is done (the Lifecycle bounds the wait).
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What a service's factory gets: everything the runtime built for it. */
export interface ServiceContext<C extends CommonConfig = CommonConfig> {
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** route() for extra endpoints, addReadinessCheck() for what readiness depends on. */
  readonly ops: OpsServer;
  /** Aborted when shutdown begins, so that start-up retries give up. */
  readonly signal: AbortSignal;
}

export type CreateServices<C extends CommonConfig> = (
  context: ServiceContext<C>,
) => Service | Service[] | Promise<Service | Service[]>;

export interface ServiceRuntimeOptions<C extends CommonConfig> {
  name: string;
  config: C;
  create: CreateServices<C>;
  /** Built from the config unless given. */
  logger?: Logger;
  /** Where logs go when the runtime builds the logger; stdout unless given. */
  logDestination?: LogDestination;
  metrics?: MetricsOptions;
}

/** One service with its logger, registry, ops server and telemetry, started and stopped as one. */
export interface ServiceRuntime {
  readonly name: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly ops: OpsServer;
  readonly lifecycle: Lifecycle;
  start(): Promise<void>;
  stop(): Promise<StopResult>;
}

/**
 * Builds a service without touching the process (no signal handlers, no exit): for tests and for the embedded
 * mode, which runs several of these in one process. Start order is telemetry, ops server, then the services as
 * create() returned them; stop order is the reverse.
 */
export async function createServiceRuntime<C extends CommonConfig>(options: ServiceRuntimeOptions<C>): Promise<ServiceRuntime> {
  const { name, config } = options;
  const logger =
    options.logger ??
    createLogger({
      service: name,
      level: config.MESHLOOP_LOG_LEVEL,
      instance: config.MESHLOOP_SERVICE_INSTANCE_ID,
      destination: options.logDestination,
    });
  const metrics = createMetrics(options.metrics);
  const health = new Health();
  const ops = createOpsServer({
    host: config.MESHLOOP_HTTP_HOST,
    port: config.MESHLOOP_HTTP_PORT,
    registry: metrics.registry,
    logger: logger.child({ component: "ops-server" }),
    health,
  });
  const telemetry = createTelemetry({
    enabled: config.MESHLOOP_OTEL_ENABLED,
    serviceName: name,
    instanceId: config.MESHLOOP_SERVICE_INSTANCE_ID,
    logger: logger.child({ component: "telemetry" }),
    endpoint: config.MESHLOOP_OTEL_EXPORTER_ENDPOINT,
  });
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.MESHLOOP_SHUTDOWN_TIMEOUT, health });
  const created = await options.create({ name, config, logger, metrics, ops, signal: lifecycle.signal });
  lifecycle.add(telemetry, ops, ...(Array.isArray(created) ? created : [created]));
  return { name, logger, metrics, ops, lifecycle, start: () => lifecycle.start(), stop: () => lifecycle.stop() };
}

export interface RunProcessOptions {
  logger: Logger;
  /** process.exit unless given. */
  exit?: (code: number) => void;
}

/** Anything started and stopped as a whole: a ServiceRuntime, or a Lifecycle of several in the embedded mode. */
export interface ProcessTarget {
  start(): Promise<void>;
  stop(): Promise<StopResult>;
}

/**
 * Owns the process around a target: starts it, stops it on SIGTERM or SIGINT and exits 0 when the stop was
 * clean, 1 when a start failed, a stop failed or overran the deadline. A second signal exits at once (1).
 * Unhandled rejections and uncaught exceptions are logged and shut the process down with exit code 1, rather
 * than leave it running half-broken. Resolves once the target started (or its failed start was dealt with).
 */
export async function runProcess(target: ProcessTarget, options: RunProcessOptions): Promise<void> {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let exitCode = 0;
  let stopping: Promise<void> | undefined;

  const shutdown = (code: number): Promise<void> => {
    exitCode = Math.max(exitCode, code);
    stopping ??= (async () => {
      let result: StopResult | undefined;
      try {
        result = await target.stop();
      } catch (error) {
        logger.error({ err: error }, "shutdown failed");
      }
      const final = result?.clean === true ? exitCode : 1;
      const notStopped = result?.services.filter((entry) => entry.outcome !== "stopped").map((entry) => entry.name) ?? [];
      const summary = { exitCode: final, durationMs: result?.durationMs, timedOut: result?.timedOut, notStopped };
      if (final === 0) logger.info(summary, "shut down");
      else logger.error(summary, "shut down with errors");
      exit(final);
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping !== undefined) {
      logger.warn({ signal }, "second signal during shutdown, exiting now");
      exit(1);
      return;
    }
    logger.info({ signal }, "shutdown requested");
    void shutdown(0);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("unhandledRejection", (reason) => {
    logger.fatal({ err: reason }, "unhandled promise rejection, shutting down");
    void shutdown(1);
  });
  process.on("uncaughtException", (error) => {
    logger.fatal({ err: error }, "uncaught exception, shutting down");
    void shutdown(1);
  });

  try {
    await target.start();
    logger.info("ready");
  } catch (error) {
    // A shutdown that interrupted the start decides the exit code itself.
    if (stopping === undefined) {
      logger.fatal({ err: error }, "start failed");
      await shutdown(1);
    }
  }
}

/** A configuration schema that includes commonConfig. */
export type ConfigSchema = z.ZodObject & z.ZodType<CommonConfig>;

export interface RunServiceOptions<S extends ConfigSchema> {
  /** The service's name in logs and telemetry. */
  name: string;
  /** commonConfig(...) extended with the service's own variables. */
  config: S;
  create: CreateServices<z.output<S>>;
  env?: ConfigEnv;
  prefix?: string;
  exit?: (code: number) => void;
}

/**
 * The entry point of a service's main module. Loads the configuration (on a problem: the one-line messages on
 * stderr, no stack trace, exit code 2), builds the runtime and hands the process to runProcess. Resolves with the
 * runtime once started; undefined when it exited before that.
 */
export async function runService<S extends ConfigSchema>(options: RunServiceOptions<S>): Promise<ServiceRuntime | undefined> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let config: z.output<S>;
  try {
    config = loadConfig(options.config, { env: options.env, prefix: options.prefix });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    exit(2);
    return undefined;
  }
  const logger = createLogger({ service: options.name, level: config.MESHLOOP_LOG_LEVEL, instance: config.MESHLOOP_SERVICE_INSTANCE_ID });
  logger.info({ config: redactConfig(config) }, "configuration loaded");
  let runtime: ServiceRuntime;
  try {
    runtime = await createServiceRuntime({ name: options.name, config, create: options.create, logger });
  } catch (error) {
    logger.fatal({ err: error }, "service could not be created");
    exit(1);
    return undefined;
  }
  await runProcess(runtime, { logger, exit });
  return runtime;
}
