/**
 * The limits on how often meshloop acts, all in event time: a per-target cooldown that is never shorter than the
 * loop's measured dead time, a per-target rate, and a global budget across targets. A dead time longer than the
 * cooldown would let the next action come before the windows could show the last one's effect.
 */

export const MINUTE_MS = 60_000;

/** The parts of the loop's dead time: from a change to the first window that can show its effect, judged. */
export interface DeadTimeParts {
  readonly windowMs: number;
  /** How late spans may arrive and still count (the aggregator's allowed lateness). */
  readonly latenessMs: number;
  /** How long stage 2 waits for all partitions before closing a window anyway. */
  readonly completenessWaitMs: number;
  /** Decision published to actuation result, as measured (e.g. its p99). */
  readonly actuationMs: number;
  /** Actuation result to proxies using the new configuration. */
  readonly propagationMs: number;
}

export function deadTimeMs(parts: DeadTimeParts): number {
  return parts.windowMs + parts.latenessMs + parts.completenessWaitMs + parts.actuationMs + parts.propagationMs;
}

export function effectiveCooldownMs(cooldownMs: number, measuredDeadTimeMs: number): number {
  return Math.max(cooldownMs, measuredDeadTimeMs);
}

/** Action times still inside the minute before `now`. */
export function recentActions(actionTimes: readonly number[], now: number): number[] {
  return actionTimes.filter((t) => t > now - MINUTE_MS && t <= now);
}

export type LimitCheck = { readonly ok: true } | { readonly ok: false; readonly why: string };

export function checkCooldown(lastActionMs: number | null, now: number, cooldownMs: number): LimitCheck {
  if (lastActionMs === null || now - lastActionMs >= cooldownMs) return { ok: true };
  return { ok: false, why: `cooldown: ${Math.round((cooldownMs - (now - lastActionMs)) / 1000)} s of ${Math.round(cooldownMs / 1000)} s left` };
}

export function checkRate(actionTimes: readonly number[], now: number, maxPerMinute: number, scope: string): LimitCheck {
  const recent = recentActions(actionTimes, now).length;
  if (recent < maxPerMinute) return { ok: true };
  return { ok: false, why: `${scope} limit of ${maxPerMinute} actions per minute reached (${recent} in the last minute)` };
}

/**
 * Actions across all targets, counted per event-time second: the global budget is checked on every evaluation of
 * every target, so it must not walk one entry per action (thousands a minute at scale). The minute is then exact to a
 * second. Targets are evaluated in any event-time order, which buckets do not mind.
 */
export type ActionSeconds = readonly (readonly [second: number, count: number])[];

export function actionsInMinute(log: ActionSeconds, now: number): number {
  const from = now - MINUTE_MS;
  let total = 0;
  for (const [second, count] of log) if (second * 1000 > from && second * 1000 <= now) total += count;
  return total;
}

/** The log with one more action at `now`, without the seconds that left the minute. */
export function logAction(log: ActionSeconds, now: number): ActionSeconds {
  const second = Math.floor(now / 1000);
  const kept = log.filter(([s]) => s * 1000 > now - MINUTE_MS && s !== second);
  const current = log.find(([s]) => s === second)?.[1] ?? 0;
  return [...kept, [second, current + 1] as const].sort((a, b) => a[0] - b[0]);
}

export function checkGlobalBudget(log: ActionSeconds, now: number, maxPerMinute: number): LimitCheck {
  const recent = actionsInMinute(log, now);
  if (recent < maxPerMinute) return { ok: true };
  return { ok: false, why: `global limit of ${maxPerMinute} actions per minute reached (${recent} in the last minute)` };
}
