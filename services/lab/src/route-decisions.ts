import type { DesiredState, RetryPolicy, Weights } from "@meshloop/contracts";
import type { Random } from "./random.ts";

/**
 * The data plane's decisions as pure functions and small state machines, apart from any I/O, so each rule is tested
 * on its own: which version, which instance, whether a caller is denied, whether a failed try is retried.
 */

export interface Endpoint {
  instanceId: string;
  version: string;
}

/** How a try ended, as the retry conditions see it. */
export type AttemptOutcome =
  | { kind: "response"; status: number }
  | { kind: "reset" }
  | { kind: "connect-failure" }
  /** The per-try timeout fired. */
  | { kind: "timeout" };

/**
 * The version a request goes to. With weights, by weight (versions missing from the weights get none; a weighted
 * version without endpoints still gets its share, and those requests fail: Istio sends a subset with no endpoints 503s).
 * Without weights, as a Kubernetes Service spreads: evenly over all instances, so by instance count.
 */
export function chooseVersion(weights: Weights | null, endpoints: readonly Endpoint[], random: Random): string | null {
  if (weights === null) {
    if (endpoints.length === 0) return null;
    return endpoints[Math.floor(random() * endpoints.length)]!.version;
  }
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  if (total === 0) return null;
  let point = random() * total;
  for (const [version, w] of entries) {
    point -= w;
    if (point < 0) return version;
  }
  return entries[entries.length - 1]![0];
}

/** Instance ids ejected by the route table at `nowMs` (expired leases no longer hold). */
export function ejectedInstances(state: DesiredState | null, nowMs: number): Set<string> {
  const ejected = new Set<string>();
  for (const e of state?.ejection?.ejectInstances ?? []) {
    if (Date.parse(e.leaseExpiresAt) > nowMs) ejected.add(e.instanceId);
  }
  return ejected;
}

/** Round-robin per version among the non-ejected instances; null when none is left. */
export class RoundRobin {
  private readonly next = new Map<string, number>();

  pick(version: string, endpoints: readonly Endpoint[], ejected: ReadonlySet<string>): Endpoint | null {
    const candidates = endpoints.filter((e) => e.version === version && !ejected.has(e.instanceId));
    if (candidates.length === 0) return null;
    const i = this.next.get(version) ?? 0;
    this.next.set(version, (i + 1) % 1_000_000_007);
    return candidates[i % candidates.length]!;
  }
}

/** The denial that refuses `identity` at `nowMs`, if any. */
export function denialOf(state: DesiredState | null, identity: string, nowMs: number): { reason: string } | null {
  for (const caller of state?.deniedCallers ?? []) {
    if (caller.identity !== identity) continue;
    if (caller.leaseExpiresAt !== undefined && Date.parse(caller.leaseExpiresAt) <= nowMs) continue;
    return { reason: caller.reason };
  }
  return null;
}

/** Whether the outcome failed at all (a response below 500 is an answer, not a failure, for retries). */
export function failed(outcome: AttemptOutcome): boolean {
  return outcome.kind !== "response" || outcome.status >= 500;
}

/**
 * Whether the policy's conditions cover this outcome. Envoy's HTTP meanings: `5xx` any 5xx, resets, connect failures
 * and per-try timeouts; `gateway-error` 502/503/504 and per-try timeouts; `reset`; `connect-failure`;
 * `retriable-status-codes` the listed codes. The gRPC conditions map onto the HTTP statuses a gRPC gateway gives
 * them: `unavailable` 503, `resource-exhausted` 429, `deadline-exceeded` a per-try timeout or 504, `cancelled` 499.
 */
export function retryCovers(policy: RetryPolicy, outcome: AttemptOutcome): boolean {
  return policy.retryOn.some((condition) => {
    switch (condition) {
      case "5xx":
        return outcome.kind !== "response" || outcome.status >= 500;
      case "gateway-error":
        return outcome.kind === "timeout" || (outcome.kind === "response" && [502, 503, 504].includes(outcome.status));
      case "reset":
        return outcome.kind === "reset";
      case "connect-failure":
        return outcome.kind === "connect-failure";
      case "retriable-status-codes":
        return outcome.kind === "response" && policy.retriableStatusCodes.includes(outcome.status);
      case "unavailable":
        return outcome.kind === "response" && outcome.status === 503;
      case "resource-exhausted":
        return outcome.kind === "response" && outcome.status === 429;
      case "deadline-exceeded":
        return outcome.kind === "timeout" || (outcome.kind === "response" && outcome.status === 504);
      case "cancelled":
        return outcome.kind === "response" && outcome.status === 499;
    }
    return false;
  });
}

/**
 * The retry budget of one target: retries in the last `windowMs` may be at most `percent` of the requests in it, or
 * `minRetriesPerSecond` per second of the window, whichever allows more. No budget: retries are unlimited here (the
 * connection limits' maxRetries still caps concurrent retries).
 */
export class RetryBudget {
  private readonly windowMs: number;
  private requests: number[] = [];
  private retries: number[] = [];

  constructor(windowMs = 10_000) {
    this.windowMs = windowMs;
  }

  recordRequest(nowMs: number): void {
    this.requests.push(nowMs);
  }

  /** Takes one retry from the budget if it allows one. */
  tryAcquire(budget: RetryPolicy["budget"], nowMs: number): boolean {
    this.trim(nowMs);
    if (budget !== null) {
      const allowed = Math.max((budget.percent / 100) * this.requests.length, budget.minRetriesPerSecond * (this.windowMs / 1000));
      if (this.retries.length + 1 > allowed) return false;
    }
    this.retries.push(nowMs);
    return true;
  }

  private trim(nowMs: number): void {
    const from = nowMs - this.windowMs;
    // Times arrive in order, so the stale ones are a prefix.
    const drop = (times: number[]) => {
      let i = 0;
      while (i < times.length && times[i]! <= from) i++;
      return i === 0 ? times : times.slice(i);
    };
    this.requests = drop(this.requests);
    this.retries = drop(this.retries);
  }
}

/** Envoy's default backoff: 25 ms base, doubling, capped at ten times the base, fully jittered. */
export function retryBackoffMs(retry: number, random: Random, baseMs = 25): number {
  const ceiling = Math.min(baseMs * 2 ** retry, baseMs * 10);
  return random() * ceiling;
}
