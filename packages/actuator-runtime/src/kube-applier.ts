import type { Translation } from "@meshloop/actuator-kit";
import type { Decision, DesiredState, Mesh, ResourceResult, TargetRef } from "@meshloop/contracts";
import { MeshloopError } from "@meshloop/errors";
import type { KubeClient } from "@meshloop/kube-client";
import { runWrites } from "@meshloop/kube-client/actuation";
import type { ApplyOptions, ApplyOutcome, MeshApplier } from "./applier.ts";
import { describeFailures, failedPartResults } from "./failed-parts.ts";

export interface KubeApplierOptions<Context> {
  readonly mesh: Mesh;
  readonly kube: KubeClient;
  /** Reads what the translation needs to merge into or replace (the mesh's objects for the target, its workload). */
  readonly read: (target: TargetRef, kube: KubeClient, nowMs: number) => Promise<Context>;
  /** The mesh's pure translation. */
  readonly translate: (desired: DesiredState, context: Context) => Translation;
  /** Rounds of read, translate, write when an update meets a moved resourceVersion (409); default 5. */
  readonly maxConflicts?: number;
  readonly now?: () => number;
}

/**
 * The `apply` output mode on Kubernetes: reads the cluster, translates, and writes through the API (dry run first,
 * then for real; see runWrites). An update that meets another writer's change (409) reads and translates again, so
 * their change is kept, bounded. Transient API failures before anything changed are thrown (retriable) for the
 * actuator loop's backoff; anything else is an honest outcome listing exactly which resources were written.
 *
 * Parts are independent: a part the translation could not carry out (a ServiceProfile silencing routes, a user's
 * route meshloop will not reroute) does not hold back the others. Their resources are written, the failed part is
 * listed in `resources` as failed, and the outcome is `failed`, naming it: a decision is `applied` only when all of it
 * was. The next decision for the target is a full desired state again, so it reconciles whatever is left.
 */
export class KubeApplier<Context> implements MeshApplier {
  readonly mesh: Mesh;
  readonly #options: KubeApplierOptions<Context>;

  constructor(options: KubeApplierOptions<Context>) {
    this.mesh = options.mesh;
    this.#options = options;
  }

  async apply(decision: Decision, options: ApplyOptions): Promise<ApplyOutcome> {
    const { kube, read, translate } = this.#options;
    const maxConflicts = this.#options.maxConflicts ?? 5;
    const now = this.#options.now ?? Date.now;
    for (let round = 1; ; round++) {
      const nowMs = now();
      const translation = translate(decision.desiredState, await read(decision.target, kube, nowMs));
      const unsupported = translation.unsupported.map((u) => ({ capability: u.capability, reason: u.reason }));
      const notes = [...translation.refused.map((r) => r.reason), ...translation.recommendations.map((r) => r.reason), ...translation.warnings];
      const refused: ResourceResult[] = translation.refused.map((r) => ({ kind: r.ref.kind, name: r.ref.name, ...(r.ref.namespace === undefined ? {} : { namespace: r.ref.namespace }), status: "skipped", message: `refused: ${r.reason}` }));
      const failedParts = failedPartResults(translation.failed);
      const partsFailure = describeFailures(translation.failed);
      const run = await runWrites(kube, translation.resources, options.mode);
      if (run.kind === "conflict") {
        if (round < maxConflicts) continue;
        const written = run.results.filter((r) => r.status === "applied");
        // Something was written in this round: an honest failure; nothing: retriable, the loop backs off and retries.
        if (written.length === 0) throw new MeshloopError(`${run.error.message} (${maxConflicts} rounds of re-reading)`, { retriable: true, cause: run.error });
        return { status: "failed", reason: join(`another writer kept changing the objects (${maxConflicts} rounds): ${run.error.message}`, notes), resources: [...run.results, ...failedParts, ...refused], unsupported };
      }
      const resources = [...run.results, ...failedParts, ...refused];
      const written = describeWritten(run.results);
      if (run.failure !== null || partsFailure !== null) {
        const failures = [partsFailure, run.failure].filter((f): f is string => f !== null).join("; ");
        const rest = options.mode === "dry-run" ? "dry run of the other parts" : written.length === 0 ? "nothing written" : `the other parts written: ${written.join(", ")}`;
        return { status: "failed", reason: join(`${failures}; ${translation.resources.length === 0 ? "nothing else to write" : rest}`, notes), resources, unsupported };
      }
      if (options.mode === "dry-run") {
        const what = translation.resources.length === 0 ? "nothing to write" : `the API server accepted a dry run of ${run.results.length} writes`;
        return { status: "dry-run", reason: join(`dry run: ${what}`, notes), resources, unsupported };
      }
      if (translation.resources.length === 0 && (unsupported.length > 0 || refused.length > 0)) {
        const why = [...unsupported.map((u) => u.reason), ...translation.refused.map((r) => r.reason)].join("; ");
        return { status: unsupported.length > 0 ? "unsupported" : "refused", reason: why, resources, unsupported };
      }
      const main = written.length === 0 ? "the cluster already holds the desired state; nothing written" : `wrote ${written.join(", ")}`;
      return { status: "applied", reason: join(main, notes), resources, unsupported, appliedAt: new Date(now()).toISOString() };
    }
  }
}

function describeWritten(results: readonly ResourceResult[]): string[] {
  return results.filter((r) => r.status === "applied").map((r) => `${r.kind} ${r.namespace ?? ""}/${r.name}`);
}

function join(main: string, notes: readonly string[]): string {
  return notes.length === 0 ? main : `${main}; ${notes.join("; ")}`;
}
