import type { ApplyOptions, ApplyOutcome, MeshApplier } from "@meshloop/actuator-runtime";
import type { Decision } from "@meshloop/contracts";
import type { ConsulClient, ConsulLogger } from "../api/consul-client.ts";
import { applyConsul } from "../apply/apply-consul.ts";
import type { ConsulApplyOptions } from "../apply/apply-consul.ts";
import type { ConsulReadOptions } from "../apply/read-context.ts";

export interface ConsulApplierOptions {
  readonly client: ConsulClient;
  /**
   * What the reads need beyond Consul's own entries (Enterprise namespace and partition, subset naming, locality
   * targets). The service has no dependency graph to give `callers`: without them the parts Consul keeps in the
   * callers' service-defaults (connection limits, ejection) are reported unsupported, never half-applied.
   */
  readonly read?: ConsulReadOptions;
  /** Each Consul request's own retries; applyConsul's default (3 attempts, 100 ms doubling to 2 s) unless given. */
  readonly retry?: ConsulApplyOptions["retry"];
  /** Rounds of read, translate, write when another writer moves an index; applyConsul's default (5) unless given. */
  readonly maxConflicts?: number;
  readonly logger?: ConsulLogger;
  /** The clock leases are judged by; Date.now unless given (tests). */
  readonly now?: () => number;
}

/**
 * The Consul edge for the actuator loop: a decision's desired state written as config entries through Consul's HTTP
 * API, each a check-and-set against what was read. Idempotent: the translation writes only entries that differ, so
 * the same decision again writes nothing. A transient failure before any write is thrown retriable, for the loop's
 * backoff; after a partial write the outcome is `failed`, naming what was written.
 */
export class ConsulApplier implements MeshApplier {
  readonly mesh = "consul" as const;
  readonly #options: ConsulApplierOptions;

  constructor(options: ConsulApplierOptions) {
    this.#options = options;
  }

  apply(decision: Decision, options: ApplyOptions): Promise<ApplyOutcome> {
    const { client, read, retry, maxConflicts, logger, now } = this.#options;
    return applyConsul(decision, {
      ...read,
      client,
      mode: options.mode,
      nowMs: (now ?? Date.now)(),
      signal: options.signal,
      ...(retry === undefined ? {} : { retry }),
      ...(maxConflicts === undefined ? {} : { maxConflicts }),
      ...(logger === undefined ? {} : { logger }),
    });
  }
}
