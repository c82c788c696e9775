import type { ServiceSplit, ServiceSplitter } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { newEntry } from "./entries.ts";

/**
 * Weights as a service-splitter: float weights summing to 100 over the resolver's subsets. A splitter is one split
 * decision, so meshloop owns its Splits whole; the rest of a user's splitter (Meta) stays.
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

export function mergeSplitter(existing: ServiceSplitter | null, name: string, context: ConsulContext, wanted: ServiceSplit[]): { entry: ServiceSplitter; warnings: string[] } {
  const warnings: string[] = [];
  const elsewhere = (existing?.Splits ?? []).filter((s) => s.Service !== undefined && s.Service !== name);
  if (elsewhere.length > 0) {
    warnings.push(`the user's splits to ${elsewhere.map((s) => s.Service).join(", ")} are replaced by the versions' weights`);
  }
  const entry: ServiceSplitter = existing === null ? { ...newEntry("service-splitter", name, context), Splits: [] } : structuredClone(existing);
  entry.Splits = wanted.map((s) => ({ ...s }));
  return { entry, warnings };
}
