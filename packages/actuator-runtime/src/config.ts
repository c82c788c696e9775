import { envDurationMs, envEnum, envInt } from "@meshloop/runtime";

/** What every actuator service reads besides its mesh's own settings (the actuators add theirs with a prefix). */
export const actuatorSettings = {
  MESHLOOP_ACTUATOR_MODE: envEnum(["apply", "dry-run"] as const)
    .default("apply")
    .describe("apply: change the mesh; dry-run: check every decision (the API's own dry run where it has one) and publish results, change nothing."),
  MESHLOOP_ACTUATOR_RETRY_ATTEMPTS: envInt({ min: 1, max: 20 })
    .default(5)
    .describe("Tries of one decision when the mesh API fails transiently (unavailable, conflict, throttled), before it is reported failed."),
  MESHLOOP_ACTUATOR_RETRY_INITIAL_DELAY: envDurationMs({ min: "1ms", max: "1m" })
    .default(200)
    .describe("Upper bound of the first retry's random delay; doubled each retry (full jitter)."),
  MESHLOOP_ACTUATOR_RETRY_MAX_DELAY: envDurationMs({ min: "1ms", max: "10m" })
    .default(10_000)
    .describe("Largest delay between two tries."),
};
