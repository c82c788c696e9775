import { MeshloopError } from "@meshloop/errors";
import type { Health } from "./health.ts";
import type { Logger } from "./logger.ts";
import type { Service } from "./service.ts";

/**
 * Starts services in order and stops them in reverse, the whole stop bounded by one deadline. Installs no signal
 * handlers and never exits the process: runService does that around it, tests and the embedded mode use it as is.
 */

export type LifecycleState = "idle" | "starting" | "running" | "stopping" | "stopped";

export type StopOutcome = "stopped" | "failed" | "timed out" | "not stopped";

export interface ServiceStop {
  name: string;
  /** "timed out": its stop was still running at the deadline; "not stopped": the deadline passed before its turn. */
  outcome: StopOutcome;
  durationMs: number;
  error?: unknown;
}

export interface StopResult {
  /** Every started service stopped without error inside the deadline. */
  clean: boolean;
  timedOut: boolean;
  durationMs: number;
  /** In the order they were stopped (reverse start order). */
  services: ServiceStop[];
}

export interface LifecycleOptions {
  logger: Logger;
  shutdownTimeoutMs: number;
  /** Marked ready once all services started and stopping when stop() begins. */
  health?: Health;
}

export class Lifecycle {
  readonly #services: Service[] = [];
  readonly #started: Service[] = [];
  readonly #abort = new AbortController();
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #health: Health | undefined;
  #state: LifecycleState = "idle";
  #starting: Promise<void> | undefined;
  #stopping: Promise<StopResult> | undefined;

  constructor(options: LifecycleOptions, services: Service[] = []) {
    this.#logger = options.logger;
    this.#timeoutMs = options.shutdownTimeoutMs;
    this.#health = options.health;
    this.add(...services);
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Aborted when stop() begins: hand it to start-up work that retries (connecting to a broker) so that it gives up. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  add(...services: Service[]): void {
    if (this.#state !== "idle") throw new Error(`cannot add services to a lifecycle that is ${this.#state}`);
    this.#services.push(...services);
  }

  /**
   * Starts each service after the previous one's start resolved. When one fails, the ones already started are
   * stopped (in reverse) and the returned promise rejects with a MeshloopError naming the service.
   */
  start(): Promise<void> {
    if (this.#state !== "idle") return Promise.reject(new Error(`lifecycle already ${this.#state}`));
    this.#state = "starting";
    this.#starting = this.#startAll();
    return this.#starting;
  }

  async #startAll(): Promise<void> {
    for (const service of this.#services) {
      if (this.#abort.signal.aborted) throw new MeshloopError(`start interrupted by shutdown before ${service.name}`);
      const started = performance.now();
      try {
        await service.start();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#logger.error({ err: error, component: service.name }, "service failed to start");
        // A stop() already under way waits for this start to settle, so it must not be awaited from here.
        if (this.#stopping === undefined) await this.#beginStop(false);
        throw new MeshloopError(`${service.name} failed to start: ${message}`, { cause: error, context: { service: service.name } });
      }
      this.#started.push(service);
      this.#logger.info({ component: service.name, durationMs: elapsed(started) }, "service started");
    }
    if (this.#abort.signal.aborted) throw new MeshloopError("start interrupted by shutdown");
    this.#state = "running";
    this.#health?.markReady();
  }

  /**
   * Marks not-ready, then stops the started services in reverse within the shutdown timeout. Idempotent: every
   * call returns the same result. Called during start(), it first waits (inside the same deadline) for the
   * service being started.
   */
  stop(): Promise<StopResult> {
    return this.#beginStop(true);
  }

  #beginStop(waitForStart: boolean): Promise<StopResult> {
    this.#stopping ??= this.#stopAll(waitForStart);
    return this.#stopping;
  }

  async #stopAll(waitForStart: boolean): Promise<StopResult> {
    const began = performance.now();
    const deadline = began + this.#timeoutMs;
    this.#state = "stopping";
    this.#health?.markStopping();
    this.#abort.abort();
    const services: ServiceStop[] = [];
    let timedOut = false;

    if (waitForStart && this.#starting !== undefined) {
      const settled = await settleBefore(this.#starting, deadline);
      if (settled === "timeout") {
        timedOut = true;
        const pending = this.#services[this.#started.length];
        if (pending !== undefined) services.push({ name: pending.name, outcome: "timed out", durationMs: elapsed(began) });
        this.#logger.error({ component: pending?.name, timeoutMs: this.#timeoutMs }, "service did not finish starting within the shutdown timeout");
      }
    }

    for (const service of [...this.#started].reverse()) {
      if (timedOut) {
        services.push({ name: service.name, outcome: "not stopped", durationMs: 0 });
        continue;
      }
      const started = performance.now();
      const settled = await settleBefore(Promise.resolve().then(() => service.stop()), deadline);
      const durationMs = elapsed(started);
      if (settled === "timeout") {
        timedOut = true;
        services.push({ name: service.name, outcome: "timed out", durationMs });
        this.#logger.error({ component: service.name, timeoutMs: this.#timeoutMs }, "service did not stop within the shutdown timeout");
      } else if (settled.ok) {
        services.push({ name: service.name, outcome: "stopped", durationMs });
        this.#logger.info({ component: service.name, durationMs }, "service stopped");
      } else {
        services.push({ name: service.name, outcome: "failed", durationMs, error: settled.error });
        this.#logger.error({ err: settled.error, component: service.name }, "service failed to stop");
      }
    }

    this.#state = "stopped";
    const clean = services.every((entry) => entry.outcome === "stopped");
    return { clean, timedOut, durationMs: elapsed(began), services };
  }
}

type Settled = { ok: true } | { ok: false; error: unknown };

// The timer is deliberately not unref'd: a stop() that hangs on a bare promise holds no handle, and without the
// timer the event loop would empty and the process exit before the deadline could be reported.
async function settleBefore(promise: Promise<unknown>, deadline: number): Promise<Settled | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - performance.now()));
  });
  const outcome = promise.then(
    (): Settled => ({ ok: true }),
    (error: unknown): Settled => ({ ok: false, error }),
  );
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}
