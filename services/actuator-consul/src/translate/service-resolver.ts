import type { Failover } from "@meshloop/contracts";
import { isOwnedEntry } from "../config-entries.ts";
import type { FailoverTarget, ServiceResolver } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { newEntry } from "./entries.ts";

/**
 * The service-resolver side: subsets that select instances by their version Meta, and failover to other datacenters,
 * peers or partitions. meshloop adds the subsets it is missing (the user's same-named subsets win) and owns only the
 * wildcard failover `"*"`; the user's default subset, per-subset failovers and timeouts stay.
 */
export interface ResolverPlan {
  subsets: { name: string; version: string }[];
  failover: FailoverTarget[] | null;
}

/** A bexpr filter on the instance's Meta; the value is quoted so any version string is taken literally. */
export function subsetFilter(metaKey: string, version: string): string {
  return `Service.Meta.${metaKey} == "${version.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Consul's failover targets for the localities, in order; null with the reason when some locality has no target. */
export function failoverTargets(failover: Failover, localityTargets: ConsulContext["localityTargets"]): { targets: FailoverTarget[] } | { reason: string } {
  if (failover.kind === "distribute") {
    return { reason: "Consul's resolver fails over in order; it has no weighted distribution over localities" };
  }
  const targets: FailoverTarget[] = [];
  const unmapped: string[] = [];
  for (const locality of failover.toLocalities) {
    // A zone without its own target fails over to its region's.
    const target = localityTargets[locality] ?? localityTargets[locality.split("/")[0]!];
    if (target === undefined) unmapped.push(locality);
    else if (!targets.some((t) => JSON.stringify(t) === JSON.stringify(target))) targets.push({ ...target });
  }
  if (unmapped.length > 0) return { reason: `no Consul datacenter, peer or partition is configured for ${unmapped.join(", ")}` };
  return { targets };
}

export function mergeResolver(existing: ServiceResolver | null, name: string, context: ConsulContext, plan: ResolverPlan): { entry: ServiceResolver; warnings: string[] } {
  const entry: ServiceResolver = existing === null ? { ...newEntry("service-resolver", name, context) } : structuredClone(existing);
  const warnings: string[] = [];
  const metaKey = context.versionMetaKey ?? "version";
  const subsets = { ...entry.Subsets };
  for (const { name: subset, version } of plan.subsets) {
    const filter = subsetFilter(metaKey, version);
    const theirs = subsets[subset];
    if (theirs === undefined) subsets[subset] = { Filter: filter };
    else if (theirs.Filter !== filter) warnings.push(`subset ${subset} keeps the user's filter ${JSON.stringify(theirs.Filter ?? "")}, not ${JSON.stringify(filter)}`);
  }
  if (Object.keys(subsets).length > 0) entry.Subsets = subsets;
  if (plan.failover !== null) {
    const before = entry.Failover?.["*"];
    if (before !== undefined && !isOwnedEntry(existing) && JSON.stringify(before) !== JSON.stringify({ Targets: plan.failover })) {
      warnings.push(`the user's wildcard failover ${JSON.stringify(before)} is replaced`);
    }
    entry.Failover = { ...entry.Failover, "*": { Targets: plan.failover.map((t) => ({ ...t })) } };
  } else if (isOwnedEntry(existing) && entry.Failover !== undefined) {
    // meshloop's own resolver holds only what the desired state asks.
    const { "*": _dropped, ...rest } = entry.Failover;
    if (Object.keys(rest).length === 0) delete entry.Failover;
    else entry.Failover = rest;
  }
  return { entry, warnings };
}
