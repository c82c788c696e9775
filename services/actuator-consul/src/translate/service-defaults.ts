import type { ConnectionLimits } from "@meshloop/contracts";
import { formatDuration } from "@meshloop/actuator-kit";
import type { EjectionSettings } from "@meshloop/actuator-kit";
import type { PassiveHealthCheck, ServiceDefaults, UpstreamLimits, UpstreamOverride } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { newEntry } from "./entries.ts";

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

/** The caller's service-defaults with the override for the target set; a caller without one gets meshloop's own. */
export function mergeCallerDefaults(existing: ServiceDefaults | null, caller: { name: string; namespace?: string; partition?: string }, plan: UpstreamPlan): ServiceDefaults {
  const entry: ServiceDefaults = existing === null ? { ...newEntry("service-defaults", caller.name, caller) } : structuredClone(existing);
  const upstream = (entry.UpstreamConfig ??= {});
  const overrides = (upstream.Overrides ??= []);
  let override = overrides.find((o) => o.Name === plan.target && (o.Namespace ?? "") === (plan.namespace ?? "") && (o.Partition ?? "") === (plan.partition ?? "") && o.Peer === undefined);
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
  return entry;
}

/** Instance-level rate limit: each instance's proxy enforces it, so the service's rate is divided by the instances. */
export function instanceRate(serviceRate: number, instances: number | null): { perInstance: number; effective: number } {
  const n = Math.max(1, instances ?? 1);
  const perInstance = Math.max(1, Math.round(serviceRate / n));
  return { perInstance, effective: perInstance * n };
}

export function mergeTargetRateLimit(existing: ServiceDefaults | null, name: string, context: ConsulContext, perInstance: number): ServiceDefaults {
  const entry: ServiceDefaults = existing === null ? { ...newEntry("service-defaults", name, context) } : structuredClone(existing);
  entry.RateLimits = { ...entry.RateLimits, InstanceLevel: { ...entry.RateLimits?.InstanceLevel, RequestsPerSecond: perInstance } };
  return entry;
}
