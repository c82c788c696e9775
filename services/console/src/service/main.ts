#!/usr/bin/env node
// The console as its own process: `node services/console/src/service/main.ts` (docs/configuration.md).
import { runService } from "@meshloop/runtime";
import { createConsoleService } from "../console-service.ts";
import { consoleConfig } from "./config.ts";

await runService({ name: "console", config: consoleConfig, create: (context) => createConsoleService(context) });
