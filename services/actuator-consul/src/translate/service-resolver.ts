import type { Failover } from "@meshloop/contracts";
import { isOwnedEntry } from "../config-entries.ts";
import type { FailoverTarget, ServiceResolver } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { recordedFields } from "@meshloop/actuator-kit";
import type { FieldAccess } from "@meshloop/actuator-kit";
import { newEntry } from "./entries.ts";
import { recordEntryMerge, recordText, restoreEntry } from "./original.ts";

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

/**
 * The resolver with meshloop's subsets and wildcard failover. In a user's resolver each subset meshloop adds and the
 * wildcard failover it sets are recorded as found, for a release.
 */
export function mergeResolver(
  existing: ServiceResolver | null,
  name: string,
  context: ConsulContext,
  plan: ResolverPlan,
): { ok: true; entry: ServiceResolver; warnings: string[] } | { ok: false; reason: string } {
  const entry: ServiceResolver = existing === null ? { ...newEntry("service-resolver", name, context) } : structuredClone(existing);
  const warnings: string[] = [];
  const metaKey = context.versionMetaKey ?? "version";
  const subsets = { ...entry.Subsets };
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const { name: subset, version } of plan.subsets) {
    const filter = subsetFilter(metaKey, version);
    const theirs = subsets[subset];
    if (theirs === undefined) {
      subsets[subset] = { Filter: filter };
      before[subsetKey(subset)] = undefined;
      after[subsetKey(subset)] = subsets[subset];
    } else if (theirs.Filter !== filter) warnings.push(`subset ${subset} keeps the user's filter ${JSON.stringify(theirs.Filter ?? "")}, not ${JSON.stringify(filter)}`);
  }
  if (Object.keys(subsets).length > 0) entry.Subsets = subsets;
  if (plan.failover !== null) {
    const found = entry.Failover?.["*"];
    if (found !== undefined && !isOwnedEntry(existing) && JSON.stringify(found) !== JSON.stringify({ Targets: plan.failover })) {
      warnings.push(`the user's wildcard failover ${JSON.stringify(found)} is replaced`);
    }
    entry.Failover = { ...entry.Failover, "*": { Targets: plan.failover.map((t) => ({ ...t })) } };
    before[WILDCARD_FAILOVER] = found;
    after[WILDCARD_FAILOVER] = entry.Failover["*"];
  } else if (isOwnedEntry(existing) && entry.Failover !== undefined) {
    // meshloop's own resolver holds only what the desired state asks.
    const { "*": _dropped, ...rest } = entry.Failover;
    if (Object.keys(rest).length === 0) delete entry.Failover;
    else entry.Failover = rest;
  }
  const problem = recordEntryMerge(existing, entry, before, after);
  return problem === null ? { ok: true, entry, warnings } : { ok: false, reason: problem };
}

/**
 * A resolver on release, once the splitter no longer needs meshloop's subsets. A user's: the subsets meshloop added
 * removed and the wildcard failover put back as found (null: no record, nothing to do). meshloop's own: emptied of
 * what the splitter no longer names, `entry` null when nothing is left (delete it). `inUse` are the subsets the
 * splitter names after this translation: they stay, as removing one would fail its share of requests.
 */
export function releaseResolver(found: ServiceResolver, inUse: ReadonlySet<string>): { entry: ServiceResolver | null; notes: string[] } | null {
  if (isOwnedEntry(found)) {
    const entry = structuredClone(found);
    const subsets = Object.fromEntries(Object.entries(entry.Subsets ?? {}).filter(([subset]) => inUse.has(subset)));
    if (Object.keys(subsets).length > 0) entry.Subsets = subsets;
    else delete entry.Subsets;
    const { "*": _dropped, ...rest } = entry.Failover ?? {};
    if (Object.keys(rest).length > 0) entry.Failover = rest;
    else delete entry.Failover;
    return { entry: entry.Subsets === undefined && entry.Failover === undefined ? null : entry, notes: [] };
  }
  const text = recordText(found.Meta);
  const routed = recordedFields(text).flatMap((key) => {
    const subset = SUBSET_KEY.exec(key)?.[1];
    return subset !== undefined && inUse.has(subset) ? [subset] : [];
  });
  const restored = restoreEntry(
    found,
    (copy) => {
      const fields = new Map<string, FieldAccess>();
      for (const key of recordedFields(text)) {
        const subset = SUBSET_KEY.exec(key)?.[1];
        if (subset === undefined) continue;
        fields.set(key, {
          get: () => copy.Subsets?.[subset],
          set: (value) => {
            const subsets = { ...copy.Subsets };
            if (value === undefined) delete subsets[subset];
            else subsets[subset] = value as NonNullable<ServiceResolver["Subsets"]>[string];
            if (Object.keys(subsets).length > 0) copy.Subsets = subsets;
            else delete copy.Subsets;
          },
        });
      }
      fields.set(WILDCARD_FAILOVER, {
        get: () => copy.Failover?.["*"],
        set: (value) => {
          const failover = { ...copy.Failover };
          if (value === undefined) delete failover["*"];
          else failover["*"] = value as NonNullable<ServiceResolver["Failover"]>[string];
          if (Object.keys(failover).length > 0) copy.Failover = failover;
          else delete copy.Failover;
        },
      });
      return fields;
    },
    (key) => {
      const subset = SUBSET_KEY.exec(key)?.[1];
      return subset !== undefined && routed.includes(subset);
    },
  );
  if (restored === null) return null;
  if (routed.length > 0) restored.notes.push(`service-resolver ${found.Name}: subset ${routed.join(", ")} is still named by the splitter, so it stays`);
  return restored;
}

// The names of the fields in meshloop's record: each subset it added, and the wildcard failover.
const subsetKey = (subset: string) => `Subsets.${subset}`;
const SUBSET_KEY = /^Subsets\.(.+)$/;
const WILDCARD_FAILOVER = "Failover.*";
