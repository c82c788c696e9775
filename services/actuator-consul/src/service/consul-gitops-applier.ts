import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ApplyOptions, ApplyOutcome, MeshApplier } from "@meshloop/actuator-runtime";
import { targetKey } from "@meshloop/contracts";
import type { Decision, ResourceResult } from "@meshloop/contracts";
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
}

/**
 * The Consul actuator's `gitops` output: config entries as JSON files, one per entry, byte-identical for equal
 * content. The runtime's GitopsApplier renders Kubernetes objects; Consul's entries have their own rendering
 * (`renderGitops` in ../gitops.ts), hence this twin of it. "applied" means written to the folder.
 */
export class ConsulGitopsApplier implements MeshApplier {
  readonly mesh = "consul" as const;
  readonly #options: ConsulGitopsApplierOptions;

  constructor(options: ConsulGitopsApplierOptions) {
    this.#options = options;
  }

  async apply(decision: Decision, options: ApplyOptions): Promise<ApplyOutcome> {
    const { directory, namespace, partition } = this.#options;
    const scope = { ...(namespace === undefined ? {} : { namespace }), ...(partition === undefined ? {} : { partition }) };
    const translation = translateConsul(decision.desiredState, unreadConsul(Date.now(), scope));
    const unsupported = translation.unsupported.map((u) => ({ capability: u.capability, reason: u.reason }));
    if (translation.failed.length > 0) {
      return { status: "failed", reason: translation.failed.map((f) => f.reason).join("; "), resources: [], unsupported };
    }
    const output = renderGitops(translation.resources);
    const key = targetKey(decision.target);
    const root = join(directory, key);
    const resources: ResourceResult[] = [];
    for (const file of output.files) {
      const path = join(root, file.path);
      const before = await readFile(path, "utf8").catch(() => null);
      const same = before === file.content;
      if (options.mode === "apply" && !same) {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, file.content);
      }
      resources.push({ kind: "file", name: join(key, file.path), status: options.mode === "dry-run" ? "skipped" : same ? "unchanged" : "applied" });
    }
    for (const deletion of output.deletions) {
      if (options.mode === "apply") await rm(join(root, deletion), { force: true });
      resources.push({ kind: "file", name: join(key, deletion), status: options.mode === "dry-run" ? "skipped" : "applied", message: "removed" });
    }
    if (options.mode === "dry-run") {
      return { status: "dry-run", reason: `would write ${output.files.length} files under ${root}`, resources, unsupported };
    }
    if (resources.length === 0 && unsupported.length > 0) {
      return { status: "unsupported", reason: unsupported.map((u) => u.reason).join("; "), resources, unsupported };
    }
    const changed = resources.filter((r) => r.status === "applied").length;
    const notes = [...translation.refused.map((r) => r.reason), ...translation.warnings];
    return {
      status: "applied",
      reason: `written to ${root}: ${changed} of ${resources.length} files changed; the GitOps tool syncing it applies them${notes.length === 0 ? "" : `; ${notes.join("; ")}`}`,
      resources,
      unsupported,
      appliedAt: new Date().toISOString(),
    };
  }
}
