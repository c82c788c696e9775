import { requiredParts } from "@meshloop/contracts";
import type { ActuationStatus, CapabilityPart, DesiredState, ResourceResult } from "@meshloop/contracts";
import type { ObjectRef } from "@meshloop/actuator-kit";
import type { ConsulWrite, EntryRef, Translation } from "../translation.ts";

/**
 * What the Consul edge did with one decision, in the shape the generic actuator loop publishes (its `ApplyOutcome`):
 * every resource written, failed or skipped, in order, and the parts Consul cannot carry out, never as applied.
 */
export interface ConsulApplyOutcome {
  status: ActuationStatus;
  reason: string;
  resources: ResourceResult[];
  unsupported: { capability: CapabilityPart; reason: string }[];
  appliedAt?: string;
}

/** A stable key for an entry or object across re-reads, for merging the results of several rounds. */
export function resourceKey(result: Pick<ResourceResult, "kind" | "name" | "namespace">): string {
  return `${result.kind}/${result.namespace ?? ""}/${result.name}`;
}

/** The resource a write touches; for Consul entries `namespace` is the Enterprise namespace, if any. */
export function resourceOf(write: ConsulWrite): Pick<ResourceResult, "kind" | "name" | "namespace"> {
  if (write.action === "write") return refResult({ kind: write.entry.Kind, name: write.entry.Name, ...(write.entry.Namespace === undefined ? {} : { namespace: write.entry.Namespace }) });
  return refResult(write.ref);
}

export function refResult(ref: EntryRef | ObjectRef): Pick<ResourceResult, "kind" | "name" | "namespace"> {
  return { kind: ref.kind, name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) };
}

export function describe(write: ConsulWrite): string {
  const r = resourceOf(write);
  if (write.action === "delete") return `delete ${r.kind} ${r.name}`;
  if (write.action === "scale") return `scale ${r.kind} ${r.name} to ${write.replicas}`;
  return `${r.kind} ${r.name}`;
}

/** The refused entries as skipped resources: the listing says what meshloop left alone, and why. */
export function refusedResults(translation: Translation): ResourceResult[] {
  return translation.refused.map((r) => ({ ...refResult(r.ref), status: "skipped" as const, message: `refused: ${r.reason}` }));
}

export function unsupportedOf(translation: Translation): ConsulApplyOutcome["unsupported"] {
  return translation.unsupported.map((u) => ({ capability: u.capability, reason: u.reason }));
}

/** The caveats after the main sentence: refusals, failed parts, recommendations, warnings, unsupported parts. */
export function notes(translation: Translation): string[] {
  return [
    ...translation.failed.map((f) => `${f.capabilities.join(", ")} failed: ${f.reason}`),
    ...translation.refused.map((r) => `${r.ref.kind} ${r.ref.name} refused (${r.capabilities.join(", ")}): ${r.reason}`),
    ...translation.recommendations.map((r) => `recommended ${r.replicas} replicas${r.ref === null ? "" : ` for ${r.ref.kind} ${r.ref.name}`}: ${r.reason}`),
    ...translation.unsupported.map((u) => `${u.capability} unsupported: ${u.reason}`),
    ...translation.warnings,
  ];
}

/** The status of a round that wrote everything it meant to: the parts' own fate decides. */
export function settledStatus(state: DesiredState, translation: Translation, written: number): ActuationStatus {
  if (translation.failed.length > 0) return "failed";
  if (translation.refused.length > 0) return "refused";
  const unsupported = new Set(translation.unsupported.map((u) => u.capability));
  const asked = requiredParts(state);
  if (written === 0 && unsupported.size > 0 && asked.every((p) => unsupported.has(p))) return "unsupported";
  return "applied";
}

export function joinReason(main: string, extra: readonly string[]): string {
  return extra.length === 0 ? main : `${main}; ${extra.join("; ")}`;
}
