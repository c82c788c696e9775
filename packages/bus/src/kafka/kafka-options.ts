import type { ConnectionOptions } from "node:tls";
import { ConfigError } from "@meshloop/errors";

export interface KafkaSaslOptions {
  mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  username: string;
  password: string;
}

/** The subset of a pino logger the bus logs through, so the bus does not depend on pino. */
export interface BusLogger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export type Compression = "none" | "gzip" | "lz4";

export interface KafkaBusOptions {
  brokers: readonly string[];
  clientId: string;
  /** `true` for TLS with the system's CAs, or node:tls options (ca, cert, key) for private CAs and mTLS. */
  ssl?: boolean | ConnectionOptions;
  sasl?: KafkaSaslOptions;
  compression?: Compression;
  /** Replication factor of topics this bus creates (3 in production, 1 on a one-broker development cluster). */
  replicationFactor?: number;
  /** `min.insync.replicas` of created topics; by default 2 when replicated three times or more, else 1. */
  minInsyncReplicas?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  logger?: BusLogger;
}

export interface ResolvedKafkaBusOptions extends KafkaBusOptions {
  compression: Compression;
  replicationFactor: number;
  minInsyncReplicas: number;
}

const brokerPattern = /^[^\s:/]+:\d{1,5}$/;

/** Checks the options once, up front, with messages that say what is wrong and what is allowed. */
export function resolveKafkaBusOptions(options: KafkaBusOptions): ResolvedKafkaBusOptions {
  if (options.brokers.length === 0) {
    throw new ConfigError("kafka bus: brokers must name at least one broker as host:port");
  }
  for (const broker of options.brokers) {
    if (!brokerPattern.test(broker)) throw new ConfigError(`kafka bus: broker "${broker}" is not host:port`);
  }
  if (options.clientId.trim() === "") throw new ConfigError("kafka bus: clientId must not be empty");
  const replicationFactor = options.replicationFactor ?? 1;
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new ConfigError(`kafka bus: replicationFactor must be an integer >= 1, got ${replicationFactor}`);
  }
  const minInsyncReplicas = options.minInsyncReplicas ?? (replicationFactor >= 3 ? 2 : 1);
  if (!Number.isInteger(minInsyncReplicas) || minInsyncReplicas < 1 || minInsyncReplicas > replicationFactor) {
    throw new ConfigError(
      `kafka bus: minInsyncReplicas must be an integer between 1 and the replication factor (${replicationFactor}), got ${minInsyncReplicas}`,
    );
  }
  if (options.sasl && (options.sasl.username === "" || options.sasl.password === "")) {
    throw new ConfigError(`kafka bus: SASL ${options.sasl.mechanism} needs a username and a password`);
  }
  return { ...options, compression: options.compression ?? "none", replicationFactor, minInsyncReplicas };
}
