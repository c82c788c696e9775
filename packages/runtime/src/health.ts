/**
 * Liveness and readiness of one service. Live means "do not restart me": true until shutdown begins. Ready means
 * "send me work": false while starting, false from the moment shutdown begins (so that traffic drains before
 * the consumers stop), and otherwise the verdict of the registered checks, run on each probe.
 */

export type ReadinessCheck = (signal: AbortSignal) => void | Promise<void>;

export interface ReadinessCheckOptions {
  /** How long the check may take before it counts as failed; the Health's default unless given. */
  timeoutMs?: number;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  durationMs: number;
  /** Why it failed: the error's message, or that it timed out. */
  error?: string;
}

export type HealthPhase = "starting" | "ready" | "stopping";

export interface ReadinessReport {
  /** "ok" only when ready and every check passed. */
  status: "ok" | "starting" | "stopping" | "not ready";
  checks: CheckResult[];
}

export interface HealthOptions {
  /** Per-check timeout unless a check sets its own; 2s, well inside a Kubernetes probe's default 1s-10s window. */
  checkTimeoutMs?: number;
}

interface RegisteredCheck {
  check: ReadinessCheck;
  timeoutMs: number;
}

export class Health {
  readonly #checks = new Map<string, RegisteredCheck>();
  readonly #defaultTimeoutMs: number;
  #phase: HealthPhase = "starting";
  #inFlight: Promise<ReadinessReport> | undefined;

  constructor(options: HealthOptions = {}) {
    this.#defaultTimeoutMs = options.checkTimeoutMs ?? 2_000;
  }

  get phase(): HealthPhase {
    return this.#phase;
  }

  /** Called once everything has started. */
  markReady(): void {
    if (this.#phase === "starting") this.#phase = "ready";
  }

  /** Called when shutdown begins; there is no way back. */
  markStopping(): void {
    this.#phase = "stopping";
  }

  isLive(): boolean {
    return this.#phase !== "stopping";
  }

  /** Registers a check run on every readiness probe; returns a function that removes it. */
  addReadinessCheck(name: string, check: ReadinessCheck, options: ReadinessCheckOptions = {}): () => void {
    if (this.#checks.has(name)) throw new Error(`readiness check "${name}" is already registered`);
    const registered = { check, timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs };
    this.#checks.set(name, registered);
    return () => {
      if (this.#checks.get(name) === registered) this.#checks.delete(name);
    };
  }

  /** Runs the checks concurrently. Probes arriving while a run is in flight share it instead of piling up. */
  readiness(): Promise<ReadinessReport> {
    if (this.#phase !== "ready") return Promise.resolve({ status: this.#phase, checks: [] });
    this.#inFlight ??= this.#runChecks().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #runChecks(): Promise<ReadinessReport> {
    const checks = await Promise.all([...this.#checks].map(([name, registered]) => runCheck(name, registered)));
    // Shutdown may have begun while the checks ran; a stopping service must not report ready.
    const phase = this.#phase;
    if (phase !== "ready") return { status: phase, checks };
    return { status: checks.every((result) => result.ok) ? "ok" : "not ready", checks };
  }
}

async function runCheck(name: string, { check, timeoutMs }: RegisteredCheck): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(`timed out after ${timeoutMs}ms`);
    }, timeoutMs);
  });
  const outcome = Promise.resolve()
    .then(() => check(controller.signal))
    .then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  try {
    const error = await Promise.race([outcome, timedOut]);
    const durationMs = Math.round(performance.now() - started);
    return error === undefined ? { name, ok: true, durationMs } : { name, ok: false, durationMs, error };
  } finally {
    clearTimeout(timer);
  }
}
