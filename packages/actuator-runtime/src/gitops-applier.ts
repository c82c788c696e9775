import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { renderGitops } from "@meshloop/actuator-kit";
import type { Translation } from "@meshloop/actuator-kit";
import { targetKey } from "@meshloop/contracts";
import type { Decision, DesiredState, Mesh, ResourceResult } from "@meshloop/contracts";
import type { ApplyOptions, ApplyOutcome, MeshApplier } from "./applier.ts";

export interface GitopsApplierOptions {
  readonly mesh: Mesh;
  /** The repository folder a GitOps tool (Argo CD, Flux) syncs; each target gets `<mesh>/<namespace>/<service>/`. */
  readonly directory: string;
  /** The mesh's pure translation, with what it knows of the cluster (in GitOps mode: nothing but the time). */
  readonly translate: (desired: DesiredState, nowMs: number) => Translation;
}

/**
 * The `gitops` output mode: instead of calling the mesh's API, writes the target's translated resources as files,
 * one per resource, byte-identical for equal content, and removes the files of resources meshloop no longer wants.
 * "applied" here means written to the folder: the GitOps tool that syncs it makes the change, and reports on it.
 */
export class GitopsApplier implements MeshApplier {
  readonly mesh: Mesh;
  readonly #options: GitopsApplierOptions;

  constructor(options: GitopsApplierOptions) {
    this.mesh = options.mesh;
    this.#options = options;
  }

  async apply(decision: Decision, options: ApplyOptions): Promise<ApplyOutcome> {
    const translation = this.#options.translate(decision.desiredState, Date.now());
    const unsupported = translation.unsupported.map((u) => ({ capability: u.capability, reason: u.reason }));
    if (translation.failed.length > 0) {
      return { status: "failed", reason: translation.failed.map((f) => f.reason).join("; "), resources: [], unsupported };
    }
    const output = renderGitops(translation.resources);
    const root = join(this.#options.directory, targetKey(decision.target));
    const resources: ResourceResult[] = [];
    for (const file of output.files) {
      const path = join(root, file.path);
      const before = await readFile(path, "utf8").catch(() => null);
      const same = before === file.content;
      if (options.mode === "apply" && !same) {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, file.content);
      }
      resources.push({ kind: "file", name: join(targetKey(decision.target), file.path), status: options.mode === "dry-run" ? "skipped" : same ? "unchanged" : "applied" });
    }
    for (const deletion of output.deletions) {
      if (options.mode === "apply") await rm(join(root, deletion), { force: true });
      resources.push({ kind: "file", name: join(targetKey(decision.target), deletion), status: options.mode === "dry-run" ? "skipped" : "applied", message: "removed" });
    }
    if (options.mode === "dry-run") {
      return { status: "dry-run", reason: `would write ${output.files.length} files under ${root}`, resources, unsupported };
    }
    if (resources.length === 0 && unsupported.length > 0) {
      return { status: "unsupported", reason: unsupported.map((u) => u.reason).join("; "), resources, unsupported };
    }
    const changed = resources.filter((r) => r.status === "applied").length;
    const refused = translation.refused.length > 0 ? `; ${translation.refused.map((r) => r.reason).join("; ")}` : "";
    return {
      status: "applied",
      reason: `written to ${root}: ${changed} of ${resources.length} files changed; the GitOps tool syncing it applies them${refused}`,
      resources,
      unsupported,
      appliedAt: new Date().toISOString(),
    };
  }
}
