export { TokenCheck } from "./auth.ts";
export { ingestConfig, ingestSettings } from "./config.ts";
export type { IngestConfig } from "./config.ts";
export { createIngestService } from "./ingest-service.ts";
export type { IngestService } from "./ingest-service.ts";
