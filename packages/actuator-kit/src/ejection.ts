import type { Ejection } from "@meshloop/contracts";

/** Ejection settings in the units every mesh's detector understands, after meshloop's tightening. */
export interface EjectionSettings {
  consecutive5xx: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  /** What was tightened and why, for the result's warnings; empty when nothing was. */
  tightened: string[];
}

/**
 * No mesh's API ejects a chosen instance: its proxies' own detectors pick. When the decision names instances, meshloop
 * makes those detectors quicker to act (half the consecutive errors and half the interval, never below 1 error or
 * 1 s) and lets them eject at least as many endpoints as were chosen. Halving is relative to the decision's own
 * settings, which every decision carries in full, so repeated decisions do not tighten further.
 */
export function ejectionSettings(ejection: Ejection, endpoints: number | null): EjectionSettings {
  const chosen = ejection.ejectInstances.length;
  const settings: EjectionSettings = {
    consecutive5xx: ejection.consecutive5xx,
    intervalMs: ejection.intervalMs,
    baseEjectionTimeMs: ejection.baseEjectionTimeMs,
    maxEjectionPercent: ejection.maxEjectionPercent,
    tightened: [],
  };
  if (chosen === 0) return settings;
  const consecutive = Math.max(1, Math.ceil(ejection.consecutive5xx / 2));
  const interval = Math.min(ejection.intervalMs, Math.max(1000, Math.ceil(ejection.intervalMs / 2)));
  const names = ejection.ejectInstances.map((e) => e.instanceId).join(", ");
  if (consecutive !== settings.consecutive5xx || interval !== settings.intervalMs) {
    settings.tightened.push(
      `instances chosen for ejection (${names}) cannot be ejected directly; consecutive 5xx ${settings.consecutive5xx} -> ${consecutive}, interval ${settings.intervalMs}ms -> ${interval}ms`,
    );
  }
  settings.consecutive5xx = consecutive;
  settings.intervalMs = interval;
  if (endpoints !== null && endpoints > 0) {
    const needed = Math.min(100, Math.ceil((100 * chosen) / endpoints));
    if (needed > settings.maxEjectionPercent) {
      settings.tightened.push(`max ejection ${settings.maxEjectionPercent}% -> ${needed}% so that ${chosen} of ${endpoints} endpoints can be ejected`);
      settings.maxEjectionPercent = needed;
    }
  }
  return settings;
}
