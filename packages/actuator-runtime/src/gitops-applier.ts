import { renderGitops } from "@meshloop/actuator-kit";
import type { Translation } from "@meshloop/actuator-kit";
import type { Decision, DesiredState, Mesh } from "@meshloop/contracts";
import type { ApplyOptions, ApplyOutcome, MeshApplier } from "./applier.ts";
import { writeGitopsOutput } from "./gitops-files.ts";
import { GitopsRepository } from "./gitops-git.ts";
import type { GitAuthor } from "./gitops-git.ts";

export interface GitopsApplierOptions {
  readonly mesh: Mesh;
  /** The repository folder a GitOps tool (Argo CD, Flux) syncs; each target gets `<mesh>/<namespace>/<service>/`. */
  readonly directory: string;
  /** The mesh's pure translation, with what it knows of the cluster (in GitOps mode: nothing but the time). */
  readonly translate: (desired: DesiredState, nowMs: number) => Translation;
  /** Set: commit each decision's changed files as this author (the folder must be in a git work tree); unset: files only. */
  readonly commit?: GitAuthor | null | undefined;
}

/**
 * The `gitops` output mode for Kubernetes meshes: instead of calling the API, writes the target's translated
 * resources as files, one per resource, byte-identical for equal content, removes the files of resources meshloop no
 * longer wants, and optionally commits them (see writeGitopsOutput). "applied" here means written to the folder: the
 * GitOps tool that syncs it makes the change, and reports on it.
 */
export class GitopsApplier implements MeshApplier {
  readonly mesh: Mesh;
  readonly #options: GitopsApplierOptions;
  readonly #git: GitopsRepository | null;

  constructor(options: GitopsApplierOptions) {
    this.mesh = options.mesh;
    this.#options = options;
    this.#git = options.commit === undefined || options.commit === null ? null : new GitopsRepository(options.directory, options.commit);
  }

  /** With commits on, refuses to start on a folder that is not in a git work tree. */
  async prepare(): Promise<void> {
    await this.#git?.check();
  }

  async apply(decision: Decision, options: ApplyOptions): Promise<ApplyOutcome> {
    const translation = this.#options.translate(decision.desiredState, Date.now());
    return writeGitopsOutput(decision, translation, renderGitops(translation.resources), { directory: this.#options.directory, mode: options.mode, git: this.#git });
  }
}
