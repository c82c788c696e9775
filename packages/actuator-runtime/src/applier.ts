import type { ActuationStatus, CapabilityPart, Decision, Mesh, ResourceResult } from "@meshloop/contracts";

/** What a mesh did with one decision, before the runtime adds the decision's identity and times. */
export interface ApplyOutcome {
  readonly status: ActuationStatus;
  /** One sentence: what was done, or why not. */
  readonly reason: string;
  /** Every resource written, left unchanged, failed or skipped, in order: after a failure, exactly which were applied. */
  readonly resources: ResourceResult[];
  /** Desired-state parts this mesh cannot carry out; never reported as applied. */
  readonly unsupported: { capability: CapabilityPart; reason: string }[];
  readonly appliedAt?: string;
}

export interface ApplyOptions {
  /** `dry-run`: compute and check (the API's own dry run where it has one), change nothing. */
  readonly mode: "apply" | "dry-run";
  /** Aborted when the service shuts down. */
  readonly signal: AbortSignal;
}

/**
 * One mesh's edge: translates a decision's full desired state into that mesh's configuration and applies it. Throws
 * a MeshloopError with `retriable` for a failure worth trying again (the API away, a conflict); answers `failed`
 * with the API's reason for one that is not. Idempotent: the same decision applied twice changes nothing the second time.
 */
export interface MeshApplier {
  readonly mesh: Mesh;
  apply(decision: Decision, options: ApplyOptions): Promise<ApplyOutcome>;
  /** Checks the output before the first decision (a GitOps folder is a git work tree); throws a one-line ConfigError. */
  prepare?(): Promise<void>;
}
