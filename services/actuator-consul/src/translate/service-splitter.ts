import type { ServiceSplit, ServiceSplitter } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { newEntry } from "./entries.ts";
import { keyAccess, recordEntryMerge, restoreEntry } from "./original.ts";

/**
 * Weights as a service-splitter: float weights summing to 100 over the resolver's subsets. A splitter is one split
 * decision, so meshloop sets its Splits whole; the rest of a user's splitter (Meta) stays, and a release puts the user's
 * splits back.
 */
export interface Weighted {
  version: string;
  subset: string;
  weight: number;
}

/** Subsets without traffic are left out: they would change nothing, and Consul's smallest weight is 0.01. */
export function splits(weights: readonly Weighted[]): ServiceSplit[] {
  return weights.filter((w) => w.weight > 0).map((w) => ({ Weight: w.weight, ServiceSubset: w.subset }));
}

/** The splitter with the versions' splits; a user's splitter records its splits as found, for a release. */
export function mergeSplitter(
  existing: ServiceSplitter | null,
  name: string,
  context: ConsulContext,
  wanted: ServiceSplit[],
): { ok: true; entry: ServiceSplitter; warnings: string[] } | { ok: false; reason: string } {
  const warnings: string[] = [];
  const elsewhere = (existing?.Splits ?? []).filter((s) => s.Service !== undefined && s.Service !== name);
  if (elsewhere.length > 0) {
    warnings.push(`the user's splits to ${elsewhere.map((s) => s.Service).join(", ")} are replaced by the versions' weights`);
  }
  const entry: ServiceSplitter = existing === null ? { ...newEntry("service-splitter", name, context), Splits: [] } : structuredClone(existing);
  entry.Splits = wanted.map((s) => ({ ...s }));
  const problem = recordEntryMerge(existing, entry, { [SPLITS]: existing?.Splits }, { [SPLITS]: entry.Splits });
  return problem === null ? { ok: true, entry, warnings } : { ok: false, reason: problem };
}

/** A user's splitter as meshloop found it, for a release; null when there is nothing to put back. */
export function restoreSplitter(found: ServiceSplitter | null): { entry: ServiceSplitter; notes: string[] } | null {
  return restoreEntry(found, (copy) => new Map([[SPLITS, keyAccess(copy as unknown as Record<string, unknown>, SPLITS)]]));
}

const SPLITS = "Splits";
