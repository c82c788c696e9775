import type { CallResult } from "./data-plane.ts";
import type { ExternalCaller, Lab } from "./lab.ts";
import type { Random } from "./random.ts";
import { seededRandom } from "./random.ts";
import { expectedSpans, findService } from "./topology.ts";

/**
 * An open-loop load generator: requests are sent on the profile's schedule whether or not earlier ones finished, as
 * real users do, so a slow service builds a backlog instead of slowing the load down (which would hide saturation).
 */

export type RateProfile =
  | { kind: "constant"; rps: number }
  /** From `fromRps` to `toRps` over `durationMs`, then holding `toRps`. */
  | { kind: "ramp"; fromRps: number; toRps: number; durationMs: number }
  /** `baseRps`, except `peakRps` from `atMs` for `durationMs`. */
  | { kind: "spike"; baseRps: number; peakRps: number; atMs: number; durationMs: number };

export interface RouteMixEntry {
  /** Default: the topology's entry service. */
  service?: string;
  method: string;
  path: string;
  weight: number;
}

/** A caller outside the topology with its own identity (for the security controller), at its own constant rate. */
export interface ExtraCallerSpec {
  service: string;
  identity?: string;
  target: string;
  method: string;
  path: string;
  rps: number;
  /** Starts calling this long after the load starts (a caller that appears later); default 0. */
  afterMs?: number;
}

export interface LoadOptions {
  profile: RateProfile;
  /** Default: every route of the entry service, equally. */
  routes?: RouteMixEntry[];
  extraCallers?: ExtraCallerSpec[];
  /** Stops by itself after this long; absent: until stop(). */
  durationMs?: number;
  tickMs?: number;
  seed?: number;
}

export interface LoadCounters {
  sent: number;
  completed: number;
  /** Answered below 400. */
  ok: number;
  /** Answered 500 or above. */
  errors: number;
  byStatus: Record<number, number>;
  /** Spans the requests sent produce when every call succeeds first time (see expectedSpans). */
  expectedSpans: number;
  extra: Record<string, { sent: number; completed: number; denied: number }>;
}

export function rateAt(profile: RateProfile, elapsedMs: number): number {
  switch (profile.kind) {
    case "constant":
      return profile.rps;
    case "ramp":
      if (elapsedMs >= profile.durationMs) return profile.toRps;
      return profile.fromRps + ((profile.toRps - profile.fromRps) * elapsedMs) / profile.durationMs;
    case "spike":
      return elapsedMs >= profile.atMs && elapsedMs < profile.atMs + profile.durationMs ? profile.peakRps : profile.baseRps;
  }
}

/** Picks a route by weight. */
export function pickRoute(routes: readonly RouteMixEntry[], random: Random): RouteMixEntry {
  const total = routes.reduce((sum, r) => sum + r.weight, 0);
  let point = random() * total;
  for (const route of routes) {
    point -= route.weight;
    if (point < 0) return route;
  }
  return routes[routes.length - 1]!;
}

export class LoadGenerator {
  private readonly lab: Lab;
  private readonly options: LoadOptions;
  private readonly routes: RouteMixEntry[];
  private readonly random: Random;
  private readonly callers: Array<{ spec: ExtraCallerSpec; client: ExternalCaller; due: number }> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly state: LoadCounters = { sent: 0, completed: 0, ok: 0, errors: 0, byStatus: {}, expectedSpans: 0, extra: {} };
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private lastTick = 0;
  private due = 0;
  private finished: (() => void) | null = null;
  /** Resolves when a load with `durationMs` ran its course (or stop() was called). */
  readonly done: Promise<void>;

  constructor(lab: Lab, options: LoadOptions) {
    this.lab = lab;
    this.options = options;
    this.random = seededRandom(options.seed ?? 2);
    const entry = findService(lab.topology, lab.topology.entry)!;
    this.routes = options.routes ?? entry.routes.map((r) => ({ method: r.method, path: r.path, weight: 1 }));
    this.done = new Promise((resolve) => (this.finished = resolve));
  }

  start(): void {
    for (const spec of this.options.extraCallers ?? []) {
      this.callers.push({ spec, client: this.lab.externalCaller(spec.service, spec.identity), due: 0 });
      this.state.extra[spec.service] = { sent: 0, completed: 0, denied: 0 };
    }
    this.startedAt = this.lastTick = Date.now();
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 10);
  }

  /** Stops sending and waits for the requests in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
    this.finished?.();
  }

  counters(): LoadCounters {
    return { ...this.state, byStatus: { ...this.state.byStatus }, extra: structuredClone(this.state.extra) };
  }

  private tick(): void {
    const now = Date.now();
    const elapsed = now - this.startedAt;
    const end = this.options.durationMs;
    const until = end === undefined ? now : Math.min(now, this.startedAt + end);
    const dt = Math.max(0, until - this.lastTick) / 1000;
    this.lastTick = until;
    this.due += rateAt(this.options.profile, elapsed) * dt;
    while (this.due >= 1) {
      this.due -= 1;
      this.send();
    }
    for (const c of this.callers) {
      if (elapsed < (c.spec.afterMs ?? 0)) continue;
      c.due += c.spec.rps * dt;
      while (c.due >= 1) {
        c.due -= 1;
        this.sendExtra(c.spec, c.client);
      }
    }
    if (end !== undefined && elapsed >= end) void this.stop();
  }

  private send(): void {
    const route = pickRoute(this.routes, this.random);
    const service = route.service ?? this.lab.topology.entry;
    this.state.sent++;
    this.state.expectedSpans += expectedSpans(this.lab.topology, service, route.method, route.path);
    this.track(this.lab.request(service, route.method, route.path), (result) => {
      this.state.completed++;
      this.state.byStatus[result.status] = (this.state.byStatus[result.status] ?? 0) + 1;
      if (result.status < 400) this.state.ok++;
      if (result.status >= 500) this.state.errors++;
    });
  }

  private sendExtra(spec: ExtraCallerSpec, client: ExternalCaller): void {
    const counters = this.state.extra[spec.service]!;
    counters.sent++;
    // Its own CLIENT span, then what the callee's route produces.
    this.state.expectedSpans += 1 + expectedSpans(this.lab.topology, spec.target, spec.method, spec.path);
    this.track(client.call({ service: spec.target, method: spec.method, path: spec.path }), (result) => {
      counters.completed++;
      if (result.outcome === "denied") counters.denied++;
    });
  }

  private track(request: Promise<CallResult>, settle: (result: CallResult) => void): void {
    const tracked = request.then(settle).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}

/** Starts a load on a started lab. */
export function startLoad(lab: Lab, options: LoadOptions): LoadGenerator {
  const load = new LoadGenerator(lab, options);
  load.start();
  return load;
}
