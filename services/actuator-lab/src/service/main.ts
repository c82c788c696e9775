#!/usr/bin/env node
// The lab actuator as its own process: `node services/actuator-lab/src/service/main.ts` (docs/configuration.md).
import { runService } from "@meshloop/runtime";
import { createLabActuatorService } from "./actuator-service.ts";
import { labActuatorConfig } from "./config.ts";

await runService({ name: "actuator-lab", config: labActuatorConfig, create: (context) => createLabActuatorService(context) });
