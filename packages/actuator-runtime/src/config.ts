import { ConfigError } from "@meshloop/errors";
import { envBool, envDurationMs, envEnum, envInt, envString } from "@meshloop/runtime";
import type { GitAuthor } from "./gitops-git.ts";

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
  MESHLOOP_ACTUATOR_SESSION_TIMEOUT: envDurationMs({ min: "6s", max: "5m" })
    .default(30_000)
    .describe("Consumer-group session timeout: how long a restarted actuator waits for its dead predecessor's decisions. Keep it above one decision's longest apply, retries included."),
};

/**
 * What a GitOps actuator reads to commit its output (added with its MESHLOOP_ACTUATOR_GITOPS_DIR). Commits stay in
 * the local clone: meshloop never pushes.
 */
export const gitopsCommitSettings = {
  MESHLOOP_ACTUATOR_GITOPS_COMMIT: envBool()
    .default(false)
    .describe(
      "GitOps output only: after writing a decision's files, commit the target's folder (git add -A and git commit, one commit per decision that changed something, naming target, generation and decision id). The folder must be inside a git work tree, or the service does not start. Never pushes.",
    ),
  MESHLOOP_ACTUATOR_GITOPS_AUTHOR_NAME: envString({ example: "meshloop" }).default("meshloop").describe("Author and committer name of the GitOps commits."),
  MESHLOOP_ACTUATOR_GITOPS_AUTHOR_EMAIL: envString({ pattern: /^[^\s<>@]+@[^\s<>@]+$/, example: "meshloop@example.com" })
    .default("meshloop@localhost")
    .describe("Author and committer email of the GitOps commits."),
};

export interface GitopsCommitConfig {
  MESHLOOP_ACTUATOR_GITOPS_COMMIT: boolean;
  MESHLOOP_ACTUATOR_GITOPS_AUTHOR_NAME: string;
  MESHLOOP_ACTUATOR_GITOPS_AUTHOR_EMAIL: string;
}

/** The commits' author when commits are on, else null; commits without a GitOps folder are a configuration error. */
export function gitopsCommitAuthor(config: GitopsCommitConfig, directory: string | undefined): GitAuthor | null {
  if (!config.MESHLOOP_ACTUATOR_GITOPS_COMMIT) return null;
  if (directory === undefined) throw new ConfigError("MESHLOOP_ACTUATOR_GITOPS_COMMIT is on but MESHLOOP_ACTUATOR_GITOPS_DIR is not set: there is no GitOps output to commit");
  return { name: config.MESHLOOP_ACTUATOR_GITOPS_AUTHOR_NAME, email: config.MESHLOOP_ACTUATOR_GITOPS_AUTHOR_EMAIL };
}
