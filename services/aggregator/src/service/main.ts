#!/usr/bin/env node
// The aggregator as its own process: `node services/aggregator/src/service/main.ts` (docs/configuration.md).
import { runService } from "@meshloop/runtime";
import { createAggregatorService } from "./aggregator-service.ts";
import { aggregatorConfig } from "./config.ts";

await runService({ name: "aggregator", config: aggregatorConfig, create: (context) => createAggregatorService(context) });
