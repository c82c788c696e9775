import type { Logger } from "@meshloop/runtime";
import type { TokenCheck } from "./auth.ts";
import type { ExportHandler } from "./export-handler.ts";
import type { InflightBytes } from "./inflight.ts";
import type { IngestMetrics } from "./ingest-metrics.ts";

/** What both OTLP receivers share: one handler, one token check, one in-flight budget, one set of metrics. */
export interface ReceiverOptions {
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer };
  handler: ExportHandler;
  tokens: TokenCheck;
  inflight: InflightBytes;
  metrics: IngestMetrics;
  logger: Logger;
  /** The back-off suggested to throttled clients. */
  retryAfterMs: number;
}
