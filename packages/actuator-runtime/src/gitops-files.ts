import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GitopsOutput } from "@meshloop/actuator-kit";
import { targetKey } from "@meshloop/contracts";
import type { Decision, ResourceResult, TargetRef } from "@meshloop/contracts";
import type { ApplyOutcome } from "./applier.ts";
import { describeFailures, failedPartResults } from "./failed-parts.ts";
import type { TranslationReport } from "./failed-parts.ts";
import type { GitopsRepository } from "./gitops-git.ts";

export interface GitopsFilesWritten {
  /** `<mesh>/<namespace>/<service>`: the target's folder, relative to the GitOps folder. */
  readonly folder: string;
  /** One per file: written (`applied`), already as wanted (`unchanged`), removed, or in a dry run `skipped`. */
  readonly resources: ResourceResult[];
  /** Files written or removed. */
  readonly changed: number;
}

/**
 * Writes a target's rendered files under `<directory>/<mesh>/<namespace>/<service>/`, only those whose bytes differ,
 * and removes the files of resources meshloop no longer wants. A dry run reads and compares but writes nothing.
 * Rendering is the mesh's (Kubernetes manifests, Consul config entries); this is the same for all of them.
 */
export async function writeGitopsFiles(directory: string, target: TargetRef, output: GitopsOutput, mode: "apply" | "dry-run"): Promise<GitopsFilesWritten> {
  const folder = targetKey(target);
  const root = join(directory, folder);
  const resources: ResourceResult[] = [];
  let changed = 0;
  for (const file of output.files) {
    const path = join(root, file.path);
    const same = (await readFile(path, "utf8").catch(() => null)) === file.content;
    if (mode === "apply" && !same) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
      changed += 1;
    }
    resources.push({ kind: "file", name: join(folder, file.path), status: mode === "dry-run" ? "skipped" : same ? "unchanged" : "applied" });
  }
  for (const deletion of output.deletions) {
    const path = join(root, deletion);
    const present = (await stat(path).catch(() => null)) !== null;
    if (mode === "apply" && present) {
      await rm(path, { force: true });
      changed += 1;
    }
    const status = mode === "dry-run" ? "skipped" : present ? "applied" : "unchanged";
    resources.push({ kind: "file", name: join(folder, deletion), status, message: present ? "removed" : "already absent" });
  }
  return { folder, resources, changed };
}

export interface GitopsOutputOptions {
  /** The repository folder a GitOps tool (Argo CD, Flux) syncs. */
  readonly directory: string;
  readonly mode: "apply" | "dry-run";
  /** Set: commit the target's folder after writing (see GitopsRepository); null: files only. */
  readonly git: GitopsRepository | null;
}

/**
 * The `gitops` output of one decision, for every mesh: the files written (the parts that could be translated, even
 * when another part failed), then, when commits are on, one commit of the target's folder naming the target,
 * generation and decision. "applied" means written (and committed) to the folder: the GitOps tool that syncs it makes
 * the change. Never `applied` when a part failed or the commit did not go through. Throws only a retriable
 * GitCommitError (another git held the lock), for the actuator loop to try again; the files are then already there
 * and the next try commits them.
 */
export async function writeGitopsOutput(decision: Decision, translation: TranslationReport, output: GitopsOutput, options: GitopsOutputOptions): Promise<ApplyOutcome> {
  const written = await writeGitopsFiles(options.directory, decision.target, output, options.mode);
  const root = join(options.directory, written.folder);
  const unsupported = translation.unsupported.map((u) => ({ capability: u.capability, reason: u.reason }));
  const failedParts = failedPartResults(translation.failed);
  const resources = [...written.resources, ...failedParts];
  const notes = [...translation.refused.map((r) => r.reason), ...translation.recommendations.map((r) => r.reason), ...translation.warnings];
  const failure = describeFailures(translation.failed) ?? "";
  if (options.mode === "dry-run") {
    const main = `dry run: would write ${output.files.length} files under ${root}`;
    if (failure !== "") return { status: "failed", reason: withNotes(`${failure}; ${main}`, notes), resources, unsupported };
    return { status: "dry-run", reason: withNotes(main, notes), resources, unsupported };
  }
  let committed = "";
  if (options.git !== null) {
    try {
      const commit = await options.git.commit([written.folder], commitMessage(decision));
      committed = commit.committed ? `; committed ${commit.commit?.slice(0, 12) ?? ""}` : "; nothing to commit";
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable === true) throw error;
      const reason = `written to ${root} (${written.changed} files changed) but not committed: ${(error as Error).message}`;
      return { status: "failed", reason: withNotes(failure === "" ? reason : `${failure}; ${reason}`, notes), resources, unsupported };
    }
  }
  const main = `written to ${root}: ${written.changed} of ${written.resources.length} files changed${committed}; the GitOps tool syncing it applies them`;
  if (failure !== "") return { status: "failed", reason: withNotes(`${failure}; the other parts were ${main}`, notes), resources, unsupported };
  if (written.resources.length === 0 && unsupported.length > 0) {
    return { status: "unsupported", reason: unsupported.map((u) => u.reason).join("; "), resources, unsupported };
  }
  return { status: "applied", reason: withNotes(main, notes), resources, unsupported, appliedAt: new Date().toISOString() };
}

/** The commit's subject names the target and generation; its body the decision, so `git log` leads back to it. */
export function commitMessage(decision: Decision): string {
  return `meshloop: ${targetKey(decision.target)} generation ${decision.generation}\n\nDecision: ${decision.decisionId}\nReason: ${decision.reason}\n`;
}

function withNotes(main: string, notes: readonly string[]): string {
  return notes.length === 0 ? main : `${main}; ${notes.join("; ")}`;
}
