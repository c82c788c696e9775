#!/usr/bin/env node
// The Linkerd actuator as its own process: `node services/actuator-linkerd/src/service/main.ts` (docs/configuration.md).
import { runService } from "@meshloop/runtime";
import { createLinkerdActuatorService } from "./actuator-service.ts";
import { linkerdActuatorConfig } from "./config.ts";

await runService({ name: "actuator-linkerd", config: linkerdActuatorConfig, create: (context) => createLinkerdActuatorService(context) });
