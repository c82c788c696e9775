#!/usr/bin/env node
// The Istio actuator as its own process: `node services/actuator-istio/src/service/main.ts` (docs/configuration.md).
import { runService } from "@meshloop/runtime";
import { createIstioActuatorService } from "./actuator-service.ts";
import { istioActuatorConfig } from "./config.ts";

await runService({ name: "actuator-istio", config: istioActuatorConfig, create: (context) => createIstioActuatorService(context) });
