import { setTimeout as sleep } from "node:timers/promises";
import type { ConnectionLimits, DesiredState } from "@meshloop/contracts";
import type { Random } from "./random.ts";
import type { AttemptOutcome, Endpoint } from "./route-decisions.ts";
import {
  chooseVersion,
  denialOf,
  ejectedInstances,
  failed,
  retryBackoffMs,
  retryCovers,
  RetryBudget,
  RoundRobin,
} from "./route-decisions.ts";

/**
 * The lab's client-side router: every call between lab services goes through it, as through a sidecar. It obeys the
 * route table of the target service: denied callers (403), connection limits (queue, then 503 overflow), weights per
 * version, ejected instances, request and per-try timeouts (504) and retries within their budget. State (round-robin
 * position, limits, budget) is per target service, as if all callers shared one proxy per destination.
 */

export interface Caller {
  service: string;
  /** As authorization policies name callers, `spiffe://cluster.local/ns/<ns>/sa/<service>`. */
  identity: string;
}

export interface AttemptRequest {
  endpoint: Endpoint;
  /** 0 for the first try. */
  attempt: number;
  /** Aborted when the try's time is up; the transport should abandon the request. */
  signal: AbortSignal;
}

/** Makes one try against one instance; must not throw (a failure is an outcome). */
export type Transport = (request: AttemptRequest) => Promise<AttemptOutcome>;

export type CallOutcome = "ok" | "failed" | "denied" | "overflow" | "no-endpoint" | "timeout";

export interface CallResult {
  status: number;
  outcome: CallOutcome;
  /** Tries made; 0 when the data plane answered by itself (denied, overflow, no endpoint). */
  attempts: number;
  /** The instance of the last try. */
  endpoint: Endpoint | null;
  reason: string;
}

export interface TargetCounters {
  requests: number;
  attempts: number;
  retries: number;
  retriesRefused: number;
  denied: number;
  overflow: number;
  noEndpoint: number;
  timeouts: number;
}

export interface DataPlaneOptions {
  /** The target's current desired state; null: nothing managed (even spread, no limits). */
  routeTable: (service: string) => DesiredState | null;
  /** The target's instances that are running (crashed ones included: the router does not know they crashed). */
  endpoints: (service: string) => readonly Endpoint[];
  random: Random;
  now?: () => number;
  /** Used when the route table sets no request timeout (Istio has none; the lab must not hang forever). */
  defaultTimeoutMs?: number;
}

const NO_LIMITS: ConnectionLimits = {
  maxConnections: Number.MAX_SAFE_INTEGER,
  maxPendingRequests: Number.MAX_SAFE_INTEGER,
  maxRequests: Number.MAX_SAFE_INTEGER,
  maxRetries: Number.MAX_SAFE_INTEGER,
};

class TargetState {
  readonly roundRobin = new RoundRobin();
  readonly budget = new RetryBudget();
  readonly counters: TargetCounters = {
    requests: 0, attempts: 0, retries: 0, retriesRefused: 0, denied: 0, overflow: 0, noEndpoint: 0, timeouts: 0,
  };
  active = 0;
  activeRetries = 0;
  readonly queue: Array<() => void> = [];
}

export class DataPlane {
  private readonly options: DataPlaneOptions;
  private readonly now: () => number;
  private readonly targets = new Map<string, TargetState>();

  constructor(options: DataPlaneOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  counters(service: string): TargetCounters {
    return { ...this.target(service).counters };
  }

  async call(caller: Caller, service: string, transport: Transport): Promise<CallResult> {
    const state = this.options.routeTable(service);
    const target = this.target(service);
    const started = this.now();
    target.counters.requests++;
    target.budget.recordRequest(started);
    const denial = denialOf(state, caller.identity, started);
    if (denial) {
      target.counters.denied++;
      return local(403, "denied", `caller ${caller.identity} is denied: ${denial.reason}`);
    }
    const limits = state?.connectionLimits ?? NO_LIMITS;
    const deadline = started + (state?.requestTimeoutMs ?? this.options.defaultTimeoutMs ?? 15_000);
    const admitted = await this.admit(target, limits, deadline);
    if (admitted === "overflow") {
      target.counters.overflow++;
      return local(503, "overflow", `more than ${limits.maxPendingRequests} requests pending for ${service}`);
    }
    if (admitted === "timeout") {
      target.counters.timeouts++;
      return local(504, "timeout", `timed out waiting for a connection to ${service}`);
    }
    try {
      return await this.tries(caller, service, target, transport, deadline);
    } finally {
      this.release(target, limits);
    }
  }

  private async tries(_caller: Caller, service: string, target: TargetState, transport: Transport, deadline: number): Promise<CallResult> {
    let last: { outcome: AttemptOutcome; endpoint: Endpoint } | null = null;
    for (let attempt = 0; ; attempt++) {
      // Read per try: a route table change (a rollback, an ejection) applies to the next try.
      const state = this.options.routeTable(service);
      const now = this.now();
      const endpoints = this.options.endpoints(service);
      const version = chooseVersion(state?.weights ?? null, endpoints, this.options.random);
      const endpoint = version === null ? null : target.roundRobin.pick(version, endpoints, ejectedInstances(state, now));
      if (endpoint === null) {
        if (last !== null) return finalResult(last.outcome, last.endpoint, attempt);
        target.counters.noEndpoint++;
        return local(503, "no-endpoint", `no healthy instance of ${service}${version === null ? "" : ` version ${version}`}`);
      }
      const remaining = deadline - now;
      const perTry = state?.retries?.perTryTimeoutMs ?? null;
      const tryTimeout = perTry === null ? remaining : Math.min(perTry, remaining);
      target.counters.attempts++;
      const outcome = await this.attempt(transport, { endpoint, attempt }, tryTimeout);
      last = { outcome, endpoint };
      if (!failed(outcome)) return finalResult(outcome, endpoint, attempt + 1);
      if (this.now() >= deadline) {
        target.counters.timeouts++;
        return { status: 504, outcome: "timeout", attempts: attempt + 1, endpoint, reason: `request to ${service} timed out` };
      }
      const retries = state?.retries ?? null;
      if (retries === null || attempt >= retries.attempts || !retryCovers(retries, outcome)) {
        return finalResult(outcome, endpoint, attempt + 1);
      }
      const limits = state?.connectionLimits ?? NO_LIMITS;
      if (target.activeRetries >= limits.maxRetries || !target.budget.tryAcquire(retries.budget, this.now())) {
        target.counters.retriesRefused++;
        return finalResult(outcome, endpoint, attempt + 1);
      }
      target.counters.retries++;
      target.activeRetries++;
      try {
        const backoff = Math.min(retryBackoffMs(attempt, this.options.random), Math.max(0, deadline - this.now()));
        await sleep(backoff);
      } finally {
        target.activeRetries--;
      }
    }
  }

  private async attempt(transport: Transport, request: Omit<AttemptRequest, "signal">, timeoutMs: number): Promise<AttemptOutcome> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<AttemptOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ kind: "timeout" });
      }, Math.max(0, timeoutMs));
    });
    try {
      return await Promise.race([transport({ ...request, signal: controller.signal }), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for a connection slot: at most min(maxConnections, maxRequests) at once, then up to maxPendingRequests queued. */
  private async admit(target: TargetState, limits: ConnectionLimits, deadline: number): Promise<"ok" | "overflow" | "timeout"> {
    const cap = Math.min(limits.maxConnections, limits.maxRequests);
    if (target.active < cap && target.queue.length === 0) {
      target.active++;
      return "ok";
    }
    if (target.queue.length >= limits.maxPendingRequests) return "overflow";
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        target.active++;
        resolve("ok");
      };
      const timer = setTimeout(() => {
        const i = target.queue.indexOf(wake);
        if (i >= 0) target.queue.splice(i, 1);
        resolve("timeout");
      }, Math.max(0, deadline - this.now()));
      target.queue.push(wake);
    });
  }

  private release(target: TargetState, limits: ConnectionLimits): void {
    target.active--;
    const cap = Math.min(limits.maxConnections, limits.maxRequests);
    while (target.active < cap && target.queue.length > 0) target.queue.shift()!();
  }

  private target(service: string): TargetState {
    let state = this.targets.get(service);
    if (!state) {
      state = new TargetState();
      this.targets.set(service, state);
    }
    return state;
  }
}

function local(status: number, outcome: CallOutcome, reason: string): CallResult {
  return { status, outcome, attempts: 0, endpoint: null, reason };
}

/** Envoy's answers for failed tries: 503 for resets and connect failures, 504 for timeouts. */
function finalResult(outcome: AttemptOutcome, endpoint: Endpoint, attempts: number): CallResult {
  switch (outcome.kind) {
    case "response":
      return { status: outcome.status, outcome: outcome.status >= 500 ? "failed" : "ok", attempts, endpoint, reason: `status ${outcome.status}` };
    case "timeout":
      return { status: 504, outcome: "timeout", attempts, endpoint, reason: "per-try timeout" };
    default:
      return { status: 503, outcome: "failed", attempts, endpoint, reason: outcome.kind };
  }
}
