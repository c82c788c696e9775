import { readFileSync } from "node:fs";
import type { Bus } from "@meshloop/bus";
import { openConnections } from "@meshloop/connections";
import { ConfigError } from "@meshloop/errors";
import type { AttributeFilterOptions } from "@meshloop/otlp";
import type { Service, ServiceContext } from "@meshloop/runtime";
import { TokenCheck } from "./auth.ts";
import type { IngestConfig } from "./config.ts";
import { ExportHandler } from "./export-handler.ts";
import { GrpcReceiver } from "./grpc-receiver.ts";
import { HttpReceiver } from "./http-receiver.ts";
import { InflightBytes } from "./inflight.ts";
import { ingestMetrics } from "./ingest-metrics.ts";
import { IngestPipeline } from "./pipeline.ts";

export interface IngestService extends Service {
  /** The bound ports (useful when configured as 0). */
  ports(): { http: number; grpc: number };
}

/**
 * The ingest: two OTLP receivers in front of one pipeline to Kafka. Start order: topics and producer first, then the
 * receivers, so nothing is accepted before it can be stored. Stop order: receivers first (no new requests, those in
 * flight finish and are answered), then the producer flushes and closes.
 */
export function createIngestService(context: ServiceContext<IngestConfig>, shared?: { bus?: Bus }): IngestService {
  const { config, logger, ops } = context;
  const connections = openConnections({
    service: "ingest",
    config: { ...config, MESHLOOP_STORE: "memory" },
    logger: logger.child({ component: "bus" }),
    ...(shared?.bus === undefined ? {} : { shared: { bus: shared.bus } }),
  });
  const metrics = ingestMetrics(context.metrics);
  const pipeline = new IngestPipeline({
    bus: connections.bus,
    topics: connections.topics,
    maxMessageBytes: config.MESHLOOP_INGEST_MAX_MESSAGE_BYTES,
    produceTimeoutMs: config.MESHLOOP_INGEST_PRODUCE_TIMEOUT,
    metrics,
    ...attributeFilter(config),
  });
  const tls = loadTls(config);
  const receiverOptions = {
    host: config.MESHLOOP_INGEST_HOST,
    handler: new ExportHandler(pipeline, config.MESHLOOP_INGEST_MAX_BODY_BYTES),
    tokens: TokenCheck.fromConfig(config.MESHLOOP_INGEST_TOKEN, config.MESHLOOP_INGEST_TOKEN_FILE),
    inflight: new InflightBytes(config.MESHLOOP_INGEST_MAX_INFLIGHT_BYTES),
    metrics,
    retryAfterMs: config.MESHLOOP_INGEST_RETRY_AFTER,
    ...(tls === undefined ? {} : { tls }),
  };
  const http = new HttpReceiver({ ...receiverOptions, port: config.MESHLOOP_INGEST_HTTP_PORT, logger: logger.child({ component: "otlp-http" }) });
  const grpc = new GrpcReceiver({ ...receiverOptions, port: config.MESHLOOP_INGEST_GRPC_PORT, logger: logger.child({ component: "otlp-grpc" }) });
  ops.addReadinessCheck("kafka", () => connections.bus.partitionCount(connections.topics.spans).then(() => undefined));

  return {
    name: "ingest",
    async start() {
      await connections.ensureTopics();
      await pipeline.start();
      await http.start();
      await grpc.start();
      logger.info(
        { http: http.port(), grpc: grpc.port(), tls: tls !== undefined, auth: receiverOptions.tokens.enabled, topic: connections.topics.spans },
        "OTLP receivers listening",
      );
    },
    async stop() {
      await Promise.all([http.stop(), grpc.stop()]);
      await pipeline.stop();
      await connections.close();
    },
    ports: () => ({ http: http.port(), grpc: grpc.port() }),
  };
}

function attributeFilter(config: IngestConfig): { attributes?: AttributeFilterOptions } {
  const allow = config.MESHLOOP_INGEST_ATTRIBUTES_ALLOW;
  const deny = config.MESHLOOP_INGEST_ATTRIBUTES_DENY;
  if (allow === undefined && deny === undefined) return {};
  return { attributes: { ...(allow === undefined ? {} : { allow }), ...(deny === undefined ? {} : { deny }) } };
}

function loadTls(config: IngestConfig): { cert: Buffer; key: Buffer } | undefined {
  const certFile = config.MESHLOOP_INGEST_TLS_CERT_FILE;
  const keyFile = config.MESHLOOP_INGEST_TLS_KEY_FILE;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new ConfigError("MESHLOOP_INGEST_TLS_CERT_FILE and MESHLOOP_INGEST_TLS_KEY_FILE go together: set both or neither");
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
