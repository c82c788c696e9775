import type { ResourceResult } from "@meshloop/contracts";
import type { KubeClient, KubeObjectLike } from "../client.ts";
import { ConflictError, KubeApiError } from "../errors.ts";
import type { ResourceRef } from "../resources.ts";

/**
 * A change to make, as mesh translations produce it (structurally @meshloop/actuator-kit's KubeWrite): server-side
 * apply of meshloop's objects or fields, an update of someone else's object carrying the resourceVersion it was
 * read at, a delete, or the scale subresource.
 */
export type KubeWriteLike =
  | { action: "apply"; object: KubeObjectLike; partial?: boolean }
  | { action: "update"; object: KubeObjectLike }
  | { action: "delete"; ref: ResourceRef }
  | { action: "scale"; ref: ResourceRef; replicas: number };

export type WriteRun =
  /** Every write done (or, in dry-run mode, checked), or one failed: `failure` says why, the results say where. */
  | { kind: "done"; results: ResourceResult[]; failure: string | null }
  /** An update's resourceVersion was stale: re-read, translate again and run again. */
  | { kind: "conflict"; results: ResourceResult[]; error: ConflictError };

export const DRY_RUN_MESSAGE = "dry run";

/**
 * Runs the writes in order: first every one with `dryRun=All`, so the API server's validation (CRD schemas, CEL
 * rules, admission webhooks) speaks before anything changes; then, in apply mode, for real. A write that fails stops
 * the rest, and the results say exactly which were applied, which failed and which were not attempted.
 */
export async function runWrites(kube: KubeClient, writes: readonly KubeWriteLike[], mode: "apply" | "dry-run"): Promise<WriteRun> {
  const checked: (string | undefined)[] = [];
  for (const [i, write] of writes.entries()) {
    try {
      checked.push(await perform(kube, write, true));
    } catch (error) {
      if (error instanceof ConflictError) return { kind: "conflict", results: [], error };
      const message = messageOf(error);
      const results = writes.map((w, j) =>
        j === i ? result(w, "failed", `rejected by the API server's dry run: ${message}`) : result(w, "skipped", `not written: the dry run of ${describe(write)} was rejected`),
      );
      return { kind: "done", results, failure: `the dry run of ${describe(write)} was rejected: ${message}` };
    }
  }
  if (mode === "dry-run") return { kind: "done", results: writes.map((w) => result(w, "skipped", DRY_RUN_MESSAGE)), failure: null };

  const results: ResourceResult[] = [];
  for (const [i, write] of writes.entries()) {
    try {
      const version = await perform(kube, write, false);
      const unchanged = write.action === "delete" ? version === undefined : version !== undefined && version === checked[i];
      results.push(result(write, unchanged ? "unchanged" : "applied", messageFor(write, unchanged)));
    } catch (error) {
      if (error instanceof ConflictError) return { kind: "conflict", results, error };
      const message = messageOf(error);
      results.push(result(write, "failed", message));
      for (const rest of writes.slice(i + 1)) results.push(result(rest, "skipped", `not attempted: ${describe(write)} failed before it`));
      return { kind: "done", results, failure: `${describe(write)} failed: ${message}` };
    }
  }
  return { kind: "done", results, failure: null };
}

/** Makes one write; answers the resourceVersion the server answered with ("" for a delete, undefined if absent). */
async function perform(kube: KubeClient, write: KubeWriteLike, dryRun: boolean): Promise<string | undefined> {
  switch (write.action) {
    case "apply":
      return (await kube.apply(write.object, { dryRun })).metadata?.resourceVersion;
    case "update":
      return (await kube.update(write.object, { dryRun })).metadata?.resourceVersion;
    case "delete":
      return (await kube.delete(write.ref, { dryRun })) ? "" : undefined;
    case "scale":
      return (await kube.patchScale(write.ref, write.replicas, { dryRun })).metadata.resourceVersion;
  }
}

export function refOfWrite(write: KubeWriteLike): ResourceRef {
  if (write.action === "apply" || write.action === "update") {
    const m = write.object.metadata;
    return { apiVersion: write.object.apiVersion, kind: write.object.kind, namespace: m?.namespace ?? "", name: m?.name ?? "" };
  }
  return write.ref;
}

export function describe(write: KubeWriteLike): string {
  const ref = refOfWrite(write);
  const verb = write.action === "scale" ? `scaling ${ref.kind}` : `${write.action} of ${ref.kind}`;
  return `${verb} ${ref.namespace}/${ref.name}`;
}

function result(write: KubeWriteLike, status: ResourceResult["status"], message: string): ResourceResult {
  const ref = refOfWrite(write);
  return { kind: ref.kind, name: ref.name, ...(ref.namespace === "" ? {} : { namespace: ref.namespace }), status, message };
}

function messageFor(write: KubeWriteLike, unchanged: boolean): string {
  switch (write.action) {
    case "apply":
      return unchanged ? "already as wanted" : write.partial === true ? "server-side apply of meshloop's fields" : "server-side apply";
    case "update":
      return unchanged ? "already as wanted" : "updated meshloop's fields (resourceVersion precondition)";
    case "delete":
      return unchanged ? "already absent" : "deleted";
    case "scale":
      return unchanged ? `already at ${write.replicas} replicas` : `scaled to ${write.replicas} replicas`;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof KubeApiError) {
    const status = error.status === undefined ? "" : `${error.status}${error.reason === undefined ? "" : ` ${error.reason}`}: `;
    return `${status}${error.apiMessage ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
