import { GitopsRepository, writeGitopsOutput } from "@meshloop/actuator-runtime";
import type { ApplyOptions, ApplyOutcome, GitAuthor, MeshApplier } from "@meshloop/actuator-runtime";
import type { Decision } from "@meshloop/contracts";
import type { ConsulContext } from "../context.ts";
import { renderGitops } from "../gitops.ts";
import { translateConsul } from "../translate/translate.ts";

/**
 * What the translation knows of a Consul it does not read: the time, the deployment's scope, and an assumed L7
 * protocol. Splitters and routers need http, http2 or grpc and the protocol lives in Consul, so GitOps output
 * assumes http rather than refusing every weight; for a tcp service Consul rejects the synced splitter and the
 * GitOps tool reports it. No entry is known to exist, so meshloop writes its own entries whole and deletes none.
 */
export function unreadConsul(nowMs: number, scope: { namespace?: string; partition?: string }): ConsulContext {
  return {
    nowMs,
    ...scope,
    protocol: "http",
    resolver: null,
    splitter: null,
    router: null,
    intentions: null,
    serviceDefaults: null,
    callers: [],
    localityTargets: {},
    instances: null,
    workload: null,
    autoscalers: [],
  };
}

export interface ConsulGitopsApplierOptions {
  /** The repository folder a GitOps tool syncs (`consul config write`); each target gets `consul/<namespace>/<service>/`. */
  readonly directory: string;
  /** Consul Enterprise namespace and partition of the entries; absent on Consul CE. */
  readonly namespace?: string;
  readonly partition?: string;
  /** Set: commit each decision's changed files as this author (the folder must be in a git work tree); unset: files only. */
  readonly commit?: GitAuthor | null;
}

/**
 * The Consul actuator's `gitops` output: config entries as JSON files, one per entry, byte-identical for equal
 * content, optionally committed. Only the rendering is Consul's (`renderGitops` in ../gitops.ts); writing, reporting
 * and committing are the runtime's writeGitopsOutput, as for the Kubernetes meshes. "applied" means written to the folder.
 */
export class ConsulGitopsApplier implements MeshApplier {
  readonly mesh = "consul" as const;
  readonly #options: ConsulGitopsApplierOptions;
  readonly #git: GitopsRepository | null;

  constructor(options: ConsulGitopsApplierOptions) {
    this.#options = options;
    this.#git = options.commit === undefined || options.commit === null ? null : new GitopsRepository(options.directory, options.commit);
  }

  /** With commits on, refuses to start on a folder that is not in a git work tree. */
  async prepare(): Promise<void> {
    await this.#git?.check();
  }

  async apply(decision: Decision, options: ApplyOptions): Promise<ApplyOutcome> {
    const { directory, namespace, partition } = this.#options;
    const scope = { ...(namespace === undefined ? {} : { namespace }), ...(partition === undefined ? {} : { partition }) };
    const translation = translateConsul(decision.desiredState, unreadConsul(Date.now(), scope));
    return writeGitopsOutput(decision, translation, renderGitops(translation.resources), { directory, mode: options.mode, git: this.#git });
  }
}
