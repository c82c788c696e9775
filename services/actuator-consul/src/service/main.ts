#!/usr/bin/env node
// The Consul actuator as its own process: `node services/actuator-consul/src/service/main.ts` (docs/configuration.md).
import { runService } from "@meshloop/runtime";
import { createConsulActuatorService } from "./actuator-service.ts";
import { consulActuatorConfig } from "./config.ts";

await runService({ name: "actuator-consul", config: consulActuatorConfig, create: (context) => createConsulActuatorService(context) });
