import type { z } from "zod";
import { connectionsConfig } from "@meshloop/connections";
import { TOPICS } from "@meshloop/contracts";
import { commonConfig, envBool, envDurationMs, envInt, envList } from "@meshloop/runtime";

/** The decision service's own variables; `meshloop up` adds them to its schema too. */
export const decisionSettings = {
  MESHLOOP_DECISION_POLICY_FILES: envList({ example: "/etc/meshloop/policies.yaml" })
    .optional()
    .describe("Policy files (YAML), comma-separated. Unset: no target is managed, decisions are never published."),
  MESHLOOP_DECISION_POLICY_RELOAD_INTERVAL: envDurationMs({ min: "100ms", max: "10m" })
    .default(2_000)
    .describe("How often the policy files are checked for changes; a bad new file keeps the last good policies."),
  MESHLOOP_DECISION_PROPAGATION_DELAY: envDurationMs({ min: "0ms", max: "10m" })
    .default(5_000)
    .describe("Time from an applied actuation to proxies using it; windows before it are not judged."),
  MESHLOOP_DECISION_MAX_INPUT_DELAY: envDurationMs({ min: "1s", max: "1h" })
    .default(120_000)
    .describe("An aggregate arriving later than this after its window's end means the loop lags: actions pause."),
  MESHLOOP_DECISION_GLOBAL_MAX_ACTIONS_PER_MINUTE: envInt({ min: 1, max: 100_000 })
    .default(50)
    .describe("Actions per minute across all targets of this instance before the global budget holds them back."),
  MESHLOOP_DECISION_SESSION_TIMEOUT: envDurationMs({ min: "6s", max: "5m" })
    .default(10_000)
    .describe("Consumer-group session timeout: how long a silent instance keeps its targets."),
  MESHLOOP_DECISION_CONCURRENT_PARTITIONS: envInt({ min: 1, max: 1_000 })
    .default(TOPICS.aggregates.partitions)
    .describe("Aggregate partitions handled at the same time, each in order; 1 makes a fetch's batches wait for one another."),
  MESHLOOP_DECISION_PUBLISH_LINGER: envDurationMs({ min: "0ms", max: "1s" })
    .default(0)
    .describe("How long a decision waits for others to share its Kafka request; 0 sends at once (those made meanwhile go together next)."),
  MESHLOOP_DECISION_COMMIT_INTERVAL: envDurationMs({ min: "0ms", max: "1m" })
    .default(1_000)
    .describe("Consumed offsets are committed at most this often (off the decision path); a crash redelivers up to this much input, decided again as replays."),
  MESHLOOP_DECISION_FROM_BEGINNING: envBool()
    .default(false)
    .describe("A new consumer group starts at the oldest aggregate instead of the newest (replays decide as the first run did)."),
};

export const decisionConfig = commonConfig({ httpPort: 9103 }).extend({ ...connectionsConfig, ...decisionSettings });
export type DecisionConfig = z.infer<typeof decisionConfig>;
