import type { ConnectionLimits } from "@meshloop/contracts";
import { formatDuration, recordedFields } from "@meshloop/actuator-kit";
import type { EjectionSettings, FieldAccess } from "@meshloop/actuator-kit";
import { isOwnedEntry } from "../config-entries.ts";
import type { PassiveHealthCheck, ServiceDefaults, UpstreamLimits, UpstreamOverride } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { newEntry } from "./entries.ts";
import { keyAccess, recordEntryMerge, recordText, restoreEntry } from "./original.ts";

/**
 * Limits and passive health checks for calls to the target are enforced by each caller's proxy, so Consul keeps them
 * in the callers' service-defaults, under UpstreamConfig.Overrides naming the target. meshloop sets only that override's
 * Limits and PassiveHealthCheck; the caller's protocol, other upstreams and defaults stay. The target's own
 * service-defaults carries its instance-level rate limit.
 */
export function upstreamLimits(limits: ConnectionLimits): UpstreamLimits {
  return { MaxConnections: limits.maxConnections, MaxPendingRequests: limits.maxPendingRequests, MaxConcurrentRequests: limits.maxRequests };
}

export function passiveHealthCheck(settings: EjectionSettings): PassiveHealthCheck {
  return {
    Interval: formatDuration(settings.intervalMs),
    MaxFailures: settings.consecutive5xx,
    // Percent of detections that eject: all of them, as the other meshes do.
    EnforcingConsecutive5xx: 100,
    MaxEjectionPercent: Math.round(settings.maxEjectionPercent),
    BaseEjectionTime: formatDuration(settings.baseEjectionTimeMs),
  };
}

export interface UpstreamPlan {
  target: string;
  namespace?: string;
  partition?: string;
  limits: UpstreamLimits | null;
  passiveHealthCheck: PassiveHealthCheck | null;
}

/** Which upstream override is meshloop's: the target's, by name, namespace and partition, not through a peer. */
export type UpstreamTarget = Pick<UpstreamPlan, "target" | "namespace" | "partition">;

/**
 * The caller's service-defaults with the override for the target set; a caller without one gets meshloop's own. In
 * a user's entry the override's fields meshloop sets (or the override, when meshloop appends it) are recorded as
 * found, for a release.
 */
export function mergeCallerDefaults(
  existing: ServiceDefaults | null,
  caller: { name: string; namespace?: string; partition?: string },
  plan: UpstreamPlan,
): { ok: true; entry: ServiceDefaults } | { ok: false; reason: string } {
  const entry: ServiceDefaults = existing === null ? { ...newEntry("service-defaults", caller.name, caller) } : structuredClone(existing);
  const upstream = (entry.UpstreamConfig ??= {});
  const overrides = (upstream.Overrides ??= []);
  const key = overrideKey(plan);
  let override = overrides.find(isOverrideOf(plan));
  const found = override === undefined ? undefined : structuredClone(override);
  if (override === undefined) {
    override = {
      Name: plan.target,
      ...(plan.namespace === undefined ? {} : { Namespace: plan.namespace }),
      ...(plan.partition === undefined ? {} : { Partition: plan.partition }),
    } satisfies UpstreamOverride;
    overrides.push(override);
  }
  if (plan.limits !== null) override.Limits = { ...override.Limits, ...plan.limits };
  if (plan.passiveHealthCheck !== null) override.PassiveHealthCheck = { ...override.PassiveHealthCheck, ...plan.passiveHealthCheck };
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  if (found === undefined || recordedFields(recordText(existing?.Meta)).includes(key)) {
    before[key] = found;
    after[key] = override;
  } else {
    if (plan.limits !== null) [before[`${key}.Limits`], after[`${key}.Limits`]] = [found.Limits, override.Limits];
    if (plan.passiveHealthCheck !== null) [before[`${key}.PassiveHealthCheck`], after[`${key}.PassiveHealthCheck`]] = [found.PassiveHealthCheck, override.PassiveHealthCheck];
  }
  const problem = recordEntryMerge(existing, entry, before, after);
  return problem === null ? { ok: true, entry } : { ok: false, reason: problem };
}

/**
 * A caller's service-defaults on release: a user's with the override's recorded fields put back (or the override
 * meshloop appended removed); meshloop's own without its override, `entry` null when nothing else is left (delete
 * it). Null when there is nothing to do.
 */
export function releaseCallerDefaults(found: ServiceDefaults, target: UpstreamTarget): { entry: ServiceDefaults | null; notes: string[] } | null {
  if (isOwnedEntry(found)) {
    const entry = structuredClone(found);
    const overrides = entry.UpstreamConfig?.Overrides ?? [];
    if (!overrides.some(isOverrideOf(target))) return null;
    entry.UpstreamConfig!.Overrides = overrides.filter((o) => !isOverrideOf(target)(o));
    pruneUpstream(entry);
    const { Kind: _k, Name: _n, Namespace: _ns, Partition: _p, Meta: _m, CreateIndex: _c, ModifyIndex: _i, ...rest } = entry;
    return { entry: Object.keys(rest).length === 0 ? null : entry, notes: [] };
  }
  const key = overrideKey(target);
  const restored = restoreEntry(found, (copy) => {
    const fields = new Map<string, FieldAccess>();
    const override = copy.UpstreamConfig?.Overrides?.find(isOverrideOf(target));
    fields.set(key, {
      get: () => override,
      set: (value) => {
        // Only removal is meaningful: the override was not there before meshloop appended it.
        if (value === undefined && copy.UpstreamConfig?.Overrides !== undefined) copy.UpstreamConfig.Overrides = copy.UpstreamConfig.Overrides.filter((o) => o !== override);
      },
    });
    if (override !== undefined) {
      fields.set(`${key}.Limits`, keyAccess(override as unknown as Record<string, unknown>, "Limits"));
      fields.set(`${key}.PassiveHealthCheck`, keyAccess(override as unknown as Record<string, unknown>, "PassiveHealthCheck"));
    }
    return fields;
  });
  if (restored !== null) pruneUpstream(restored.entry);
  return restored;
}

/** The target's own service-defaults on release: its rate limits as found; null when there is nothing to put back. */
export function restoreTargetDefaults(found: ServiceDefaults | null): { entry: ServiceDefaults; notes: string[] } | null {
  return restoreEntry(found, (copy) => new Map([[RATE_LIMITS, keyAccess(copy as unknown as Record<string, unknown>, RATE_LIMITS)]]));
}

// The names of the fields in meshloop's record: the upstream override it sets (or its fields), and the rate limits.
const RATE_LIMITS = "RateLimits";
function overrideKey(target: UpstreamTarget): string {
  return `UpstreamConfig.Overrides[${[target.partition, target.namespace, target.target].filter((p) => p !== undefined).join("/")}]`;
}

function isOverrideOf(target: UpstreamTarget): (o: UpstreamOverride) => boolean {
  return (o) => o.Name === target.target && (o.Namespace ?? "") === (target.namespace ?? "") && (o.Partition ?? "") === (target.partition ?? "") && o.Peer === undefined;
}

// Containers meshloop created for its override go with it.
function pruneUpstream(entry: ServiceDefaults): void {
  const upstream = entry.UpstreamConfig;
  if (upstream === undefined) return;
  if (upstream.Overrides?.length === 0) delete upstream.Overrides;
  if (Object.keys(upstream).length === 0) delete entry.UpstreamConfig;
}

/** Instance-level rate limit: each instance's proxy enforces it, so the service's rate is divided by the instances. */
export function instanceRate(serviceRate: number, instances: number | null): { perInstance: number; effective: number } {
  const n = Math.max(1, instances ?? 1);
  const perInstance = Math.max(1, Math.round(serviceRate / n));
  return { perInstance, effective: perInstance * n };
}

/** The target's service-defaults with its instance-level rate limit; a user's records its rate limits as found. */
export function mergeTargetRateLimit(existing: ServiceDefaults | null, name: string, context: ConsulContext, perInstance: number): { ok: true; entry: ServiceDefaults } | { ok: false; reason: string } {
  const entry: ServiceDefaults = existing === null ? { ...newEntry("service-defaults", name, context) } : structuredClone(existing);
  entry.RateLimits = { ...entry.RateLimits, InstanceLevel: { ...entry.RateLimits?.InstanceLevel, RequestsPerSecond: perInstance } };
  const problem = recordEntryMerge(existing, entry, { [RATE_LIMITS]: existing?.RateLimits }, { [RATE_LIMITS]: entry.RateLimits });
  return problem === null ? { ok: true, entry } : { ok: false, reason: problem };
}
