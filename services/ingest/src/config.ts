import type { z } from "zod";
import { connectionsConfig } from "@meshloop/connections";
import { commonConfig, envDurationMs, envInt, envList, envPort, envString } from "@meshloop/runtime";

const MiB = 1024 * 1024;

/** The ingest's own variables; `meshloop up` adds them to its schema too. */
export const ingestSettings = {
  MESHLOOP_INGEST_HOST: envString()
    .default("0.0.0.0")
    .describe("Address the OTLP receivers listen on."),
  MESHLOOP_INGEST_HTTP_PORT: envPort().default(4318).describe("OTLP/HTTP port (POST /v1/traces, /v1/metrics); 0 picks a free one."),
  MESHLOOP_INGEST_GRPC_PORT: envPort().default(4317).describe("OTLP/gRPC port (TraceService/Export, MetricsService/Export); 0 picks a free one."),
  MESHLOOP_INGEST_MAX_BODY_BYTES: envInt({ min: 1024, max: 256 * MiB })
    .default(16 * MiB)
    .describe("Largest request body after decompression; larger ones get 413 (gRPC RESOURCE_EXHAUSTED). A gzip bomb is cut off here while it inflates."),
  MESHLOOP_INGEST_MAX_INFLIGHT_BYTES: envInt({ min: 1024, max: 4096 * MiB })
    .default(64 * MiB)
    .describe("Bytes of requests being received or waiting for Kafka at once; past it new requests get 503 with Retry-After (gRPC UNAVAILABLE with RetryInfo) so exporters back off and retry."),
  MESHLOOP_INGEST_PRODUCE_TIMEOUT: envDurationMs({ min: "100ms", max: "5m" })
    .default(10_000)
    .describe("How long a request waits for Kafka's acknowledgement before it is answered 503; the client retries, so a record stored late may be stored twice (at-least-once)."),
  MESHLOOP_INGEST_RETRY_AFTER: envDurationMs({ min: "1s", max: "5m" })
    .default(2_000)
    .describe("Back-off suggested to throttled clients (Retry-After, RetryInfo)."),
  MESHLOOP_INGEST_MAX_MESSAGE_BYTES: envInt({ min: 16 * 1024, max: 64 * MiB })
    .default(900_000)
    .describe("Largest Kafka record the ingest writes; keep it below the spans topic's max.message.bytes (1 MiB by default)."),
  MESHLOOP_INGEST_ATTRIBUTES_ALLOW: envList()
    .optional()
    .describe("Span and event attribute keys to keep, comma-separated (a trailing * matches a prefix); the rest are stripped before Kafka. The attributes meshloop reads (route, status codes, peer naming, sampling) are always kept."),
  MESHLOOP_INGEST_ATTRIBUTES_DENY: envList()
    .optional()
    .describe("Span and event attribute keys to strip before Kafka, comma-separated (a trailing * matches a prefix, e.g. http.request.header.*). Stripped attributes raise the span's dropped_attributes_count."),
  MESHLOOP_INGEST_TOKEN: envString()
    .optional()
    .describe("A bearer token clients must send (Authorization: Bearer ...). Unset with no token file: no authentication."),
  MESHLOOP_INGEST_TOKEN_FILE: envString()
    .optional()
    .describe("A file of accepted bearer tokens, one per line (a mounted secret); combined with MESHLOOP_INGEST_TOKEN."),
  MESHLOOP_INGEST_TLS_CERT_FILE: envString().optional().describe("PEM certificate chain; with the key file, both receivers serve TLS."),
  MESHLOOP_INGEST_TLS_KEY_FILE: envString().optional().describe("PEM private key of the certificate."),
};

/** The ingest's environment, parsed once at start-up. Ops endpoints on 9101; OTLP on the standard 4318 and 4317. */
export const ingestConfig = commonConfig({ httpPort: 9101 }).extend({ ...connectionsConfig, ...ingestSettings });

export type IngestConfig = z.infer<typeof ingestConfig>;
