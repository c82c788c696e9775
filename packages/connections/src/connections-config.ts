import { readFileSync } from "node:fs";
import type { z } from "zod";
import { envBool, envEnum, envInt, envList, envString } from "@meshloop/runtime";

/**
 * The variables that connect a service to the bus and the store. Services add them to their own schema:
 * `commonConfig({ httpPort }).extend(connectionsConfig)`.
 */
export const connectionsConfig = {
  MESHLOOP_BUS: envEnum(["kafka", "memory"])
    .default("kafka")
    .describe("kafka for deployments; memory keeps every topic inside this process (embedded mode, `meshloop up`)."),
  MESHLOOP_KAFKA_BROKERS: envList()
    .default(["127.0.0.1:9092"])
    .describe("Bootstrap brokers, comma-separated host:port."),
  MESHLOOP_KAFKA_CLIENT_ID: envString()
    .optional()
    .describe("Client id in broker logs and quotas; the service name when unset."),
  MESHLOOP_KAFKA_TLS: envBool().default(false).describe("Connect to the brokers over TLS."),
  MESHLOOP_KAFKA_TLS_CA_FILE: envString()
    .optional()
    .describe("PEM file of the CA that signed the brokers' certificates, when it is not a system CA."),
  MESHLOOP_KAFKA_SASL_MECHANISM: envEnum(["plain", "scram-sha-256", "scram-sha-512"])
    .optional()
    .describe("SASL mechanism; unset means no SASL."),
  MESHLOOP_KAFKA_SASL_USERNAME: envString().optional().describe("SASL user name."),
  MESHLOOP_KAFKA_SASL_PASSWORD_FILE: envString()
    .optional()
    .describe("File holding the SASL password (a mounted secret); the password is never taken from the environment."),
  MESHLOOP_KAFKA_COMPRESSION: envEnum(["none", "gzip", "lz4"])
    .default("none")
    .describe("Compression of produced batches."),
  MESHLOOP_KAFKA_REPLICATION_FACTOR: envInt({ min: 1, max: 16 })
    .default(1)
    .describe("Replication factor of the topics meshloop creates: 3 in production, 1 on a one-broker cluster."),
  MESHLOOP_TOPIC_PREFIX: envString()
    .optional()
    .describe("Prefix of every topic name (run42 gives run42.meshloop.spans.v1), to share a cluster."),
  MESHLOOP_CREATE_TOPICS: envBool()
    .default(true)
    .describe("Create missing topics at start-up with the default partitions; turn off where topics are managed elsewhere."),
  MESHLOOP_STORE: envEnum(["redis", "memory"])
    .default("redis")
    .describe("redis for deployments; memory keeps state inside this process (embedded mode)."),
  MESHLOOP_REDIS_URL: envString()
    .default("redis://127.0.0.1:6379")
    .describe("redis://[user:password@]host:port[/db], or rediss:// for TLS."),
  MESHLOOP_STORE_KEY_PREFIX: envString()
    .default("meshloop:")
    .describe("Namespace of every key meshloop writes to Redis."),
};

export type ConnectionsConfig = z.infer<z.ZodObject<typeof connectionsConfig>>;

/** Reads a secret file once at start-up; a trailing newline (as `echo` writes it) is not part of the secret. */
export function readSecretFile(path: string): string {
  return readFileSync(path, "utf8").replace(/\r?\n$/, "");
}
