import type { Decision, ResourceResult } from "@meshloop/contracts";
import type { ObjectRef } from "@meshloop/actuator-kit";
import { isRetriable, MeshloopError, withRetry } from "@meshloop/errors";
import type { RetryOptions } from "@meshloop/errors";
import type { ConsulClient, ConsulLogger } from "../api/consul-client.ts";
import { translateConsul } from "../translate/translate.ts";
import type { ConsulWrite, Translation } from "../translation.ts";
import { describe, joinReason, notes, refusedResults, resourceKey, resourceOf, settledStatus, unsupportedOf } from "./outcome.ts";
import type { ConsulApplyOutcome } from "./outcome.ts";
import { readConsulContext } from "./read-context.ts";
import type { ConsulReadOptions } from "./read-context.ts";

export interface ConsulApplyOptions extends ConsulReadOptions {
  client: ConsulClient;
  mode: "apply" | "dry-run";
  /** Wall-clock time of the decision's application, for leases and `appliedAt`. */
  nowMs: number;
  /** Rounds of read, translate, write when Consul answers `false` (another writer moved an index); default 5. */
  maxConflicts?: number;
  /** Each request's retries on a transient failure (5xx, 429, network); default 3 attempts, 100 ms doubling to 2 s. */
  retry?: Pick<RetryOptions, "attempts" | "initialDelayMs" | "maxDelayMs">;
  /** consul-k8s: the workload's scale subresource; without it a scale write fails with that reason. */
  scale?: (ref: ObjectRef, replicas: number) => Promise<void>;
  signal?: AbortSignal;
  logger?: ConsulLogger;
}

type Round =
  | { result: "done"; written: number }
  | { result: "conflict"; at: number }
  | { result: "error"; at: number; error: MeshloopError };

/**
 * Applies a decision's desired state to Consul: reads what the translation needs, translates, and writes each entry
 * with check-and-set against the ModifyIndex it was read at. When Consul answers `false` another writer changed an
 * entry in between: everything is read and translated again (so their change is kept) and written again, bounded.
 *
 * A transient failure before anything was written is thrown (retriable) for the actuator loop's backoff; once some
 * entry is written the outcome is `failed`, listing exactly which entries were applied, failed and skipped, and the
 * next decision for the target reconciles (the translation writes only what differs).
 */
export async function applyConsul(decision: Decision, options: ConsulApplyOptions): Promise<ConsulApplyOutcome> {
  const state = decision.desiredState;
  const results = new Map<string, ResourceResult>();
  const maxConflicts = options.maxConflicts ?? 5;
  let translation: Translation | null = null;
  for (let round = 1; ; round++) {
    try {
      const context = await request(options, () => readConsulContext(options.client, decision.target, options));
      translation = translateConsul(state, context);
    } catch (error) {
      if (!(error instanceof MeshloopError) || (isRetriable(error) && applied(results) === 0)) throw error;
      return failure(`reading Consul's entries for ${decision.target.service} failed: ${error.message}`, [...results.values()], translation);
    }
    if (options.mode === "dry-run") return dryRun(translation);

    const outcome = await writeAll(translation.resources, results, options);
    if (outcome.result === "done") {
      const resources = [...results.values(), ...refusedResults(translation)];
      const status = settledStatus(state, translation, applied(results));
      const changed = resources.filter((r) => r.status === "applied").map((r) => `${r.kind} ${r.name}`);
      const main = changed.length === 0 ? "Consul already holds the desired state; nothing written" : `wrote ${changed.join(", ")}`;
      return {
        status,
        reason: joinReason(main, notes(translation)),
        resources,
        unsupported: unsupportedOf(translation),
        ...(status === "applied" ? { appliedAt: new Date(options.nowMs).toISOString() } : {}),
      };
    }
    if (outcome.result === "conflict") {
      const write = translation.resources[outcome.at]!;
      options.logger?.debug({ entry: describe(write), round }, "Consul check-and-set answered false; reading again");
      if (round < maxConflicts) continue;
      mark(results, translation.resources, outcome.at, `another writer changed it ${maxConflicts} times while meshloop was writing; not written`);
      return failure(`${describe(write)} kept changing under meshloop (check-and-set failed ${maxConflicts} times)`, [...results.values()], translation);
    }
    const { error, at } = outcome;
    if (isRetriable(error) && applied(results) === 0) throw error;
    mark(results, translation.resources, at, error.message);
    return failure(`${describe(translation.resources[at]!)} failed: ${error.message}`, [...results.values()], translation);
  }
}

/** One round of writes in the translation's order, stopping at the first `false` or error. */
async function writeAll(writes: readonly ConsulWrite[], results: Map<string, ResourceResult>, options: ConsulApplyOptions): Promise<Round> {
  for (const [at, write] of writes.entries()) {
    let ok: boolean;
    try {
      ok = await request(options, () => writeOne(write, options));
    } catch (error) {
      if (!(error instanceof MeshloopError)) throw error;
      return { result: "error", at, error };
    }
    if (!ok) return { result: "conflict", at };
    const resource = resourceOf(write);
    results.set(resourceKey(resource), { ...resource, status: "applied", ...(write.action === "delete" ? { message: "deleted" } : write.action === "scale" ? { message: `scaled to ${write.replicas}` } : {}) });
  }
  return { result: "done", written: writes.length };
}

async function writeOne(write: ConsulWrite, options: ConsulApplyOptions): Promise<boolean> {
  switch (write.action) {
    case "write":
      return options.client.putEntry(write.entry, { cas: write.cas });
    case "delete":
      return options.client.deleteEntry(write.ref, { cas: write.cas });
    case "scale":
      if (options.scale === undefined) {
        throw new MeshloopError("no Kubernetes client is configured for the workload's scale subresource", { context: { kind: write.ref.kind, name: write.ref.name } });
      }
      await options.scale(write.ref, write.replicas);
      return true;
  }
}

/** A request with bounded backoff on transient failures; a `false` answer is not one of them. */
function request<T>(options: ConsulApplyOptions, operation: () => Promise<T>): Promise<T> {
  const retry = options.retry ?? { attempts: 3, initialDelayMs: 100, maxDelayMs: 2000 };
  return withRetry(operation, { ...retry, ...(options.signal === undefined ? {} : { signal: options.signal }) });
}

/** The write at `at` failed with `message`; the ones after it were not attempted. */
function mark(results: Map<string, ResourceResult>, writes: readonly ConsulWrite[], at: number, message: string): void {
  for (const [i, write] of writes.entries()) {
    if (i < at) continue;
    const resource = resourceOf(write);
    const key = resourceKey(resource);
    if (i === at) results.set(key, { ...resource, status: "failed", message });
    // An entry written in an earlier round stays applied: it is in Consul.
    else if (results.get(key)?.status !== "applied") results.set(key, { ...resource, status: "skipped", message: `not attempted after ${describe(writes[at]!)} failed` });
  }
}

function applied(results: Map<string, ResourceResult>): number {
  return [...results.values()].filter((r) => r.status === "applied").length;
}

function failure(main: string, resources: ResourceResult[], translation: Translation | null): ConsulApplyOutcome {
  const done = resources.filter((r) => r.status === "applied").map((r) => `${r.kind} ${r.name}`);
  const extra = [done.length === 0 ? "nothing was written" : `written before the failure: ${done.join(", ")}`, ...(translation === null ? [] : notes(translation))];
  return {
    status: "failed",
    reason: joinReason(main, extra),
    resources: [...resources, ...(translation === null ? [] : refusedResults(translation))],
    unsupported: translation === null ? [] : unsupportedOf(translation),
  };
}

function dryRun(translation: Translation): ConsulApplyOutcome {
  const resources: ResourceResult[] = translation.resources.map((w) => ({ ...resourceOf(w), status: "skipped", message: "dry run" }));
  const what = translation.resources.map(describe);
  const main = what.length === 0 ? "dry run: Consul already holds the desired state" : `dry run: would write ${what.join(", ")}`;
  return { status: "dry-run", reason: joinReason(main, notes(translation)), resources: [...resources, ...refusedResults(translation)], unsupported: unsupportedOf(translation) };
}
