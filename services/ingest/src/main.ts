#!/usr/bin/env node
// The ingest as its own process: `node services/ingest/src/main.ts` (configuration: docs/configuration.md).
import { runService } from "@meshloop/runtime";
import { ingestConfig } from "./config.ts";
import { createIngestService } from "./ingest-service.ts";

await runService({ name: "ingest", config: ingestConfig, create: (context) => createIngestService(context) });
