import { pino } from "pino";
import type { LogLevel } from "./common-config.ts";
import { defaultInstanceId } from "./common-config.ts";

export type Logger = pino.Logger;
export type LogDestination = pino.DestinationStream;

export interface LoggerOptions {
  /** Written on every line as `service`. */
  service: string;
  level?: LogLevel;
  /** Written on every line as `instance`; hostname-pid unless given. */
  instance?: string;
  /**
   * Where JSON lines go; stdout unless given. Stdout is written synchronously: pino's asynchronous mode reorders
   * and can drop the last lines when the process exits mid-write, and the lines logged during shutdown are the
   * ones an operator needs. The hot path stays cheap by not logging per record (disabled levels cost nothing).
   */
  destination?: LogDestination;
}

/**
 * A pino logger writing one JSON object per line: ISO time, the level as a word, `service` and `instance` on
 * every line, errors under `err` with stack and cause. Components take a child: `logger.child({ component: "consumer" })`.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: options.service, instance: options.instance ?? defaultInstanceId() },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Words survive log pipelines that do not know pino's numeric levels.
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
