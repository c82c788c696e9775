#!/usr/bin/env node
// The decision service as its own process: `node services/decision/src/service/main.ts` (docs/configuration.md).
import { runService } from "@meshloop/runtime";
import { decisionConfig } from "./config.ts";
import { createDecisionService } from "./decision-service.ts";

await runService({ name: "decision", config: decisionConfig, create: (context) => createDecisionService(context) });
