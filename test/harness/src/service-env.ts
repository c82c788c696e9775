import type { InfraEndpoints } from "./infra.ts";

/**
 * The environment a meshloop service needs to run on the test infrastructure in a world of its own: the real Kafka
 * and Redis, its topics under `prefix` and its Redis keys under `storePrefix` (default `<prefix>:`), the ops server on
 * a free loopback port. Tests add their service's own variables.
 */
export function serviceEnv(infra: InfraEndpoints, prefix: string, storePrefix = `${prefix}:`): Record<string, string> {
  return {
    MESHLOOP_BUS: "kafka",
    MESHLOOP_STORE: "redis",
    MESHLOOP_KAFKA_BROKERS: infra.kafkaBrokers.join(","),
    MESHLOOP_REDIS_URL: infra.redisUrl,
    MESHLOOP_TOPIC_PREFIX: prefix,
    MESHLOOP_STORE_KEY_PREFIX: storePrefix,
    MESHLOOP_HTTP_HOST: "127.0.0.1",
    MESHLOOP_HTTP_PORT: "0",
  };
}
