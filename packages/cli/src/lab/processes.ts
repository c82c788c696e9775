import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError, MeshloopError } from "@meshloop/errors";

const ROOT = new URL("../../../../", import.meta.url).pathname;

/**
 * One service of the distributed loop as a child process: started with its environment and its own ops port, ready
 * when its `/readyz` answers 200; killed (any signal), paused and resumed (SIGSTOP/SIGCONT, a zombie consumer) and
 * restarted by the chaos suite. The last lines of its output are kept for the error when it does not start; with a
 * log file, all of it is appended there too (across restarts), for a chaos run that has to be read afterwards.
 */
export class ManagedProcess {
  readonly name: string;
  readonly port: number;
  readonly #main: string;
  readonly #env: Record<string, string>;
  readonly #logFile: string | null;
  readonly #output: string[] = [];
  #child: ChildProcess | null = null;
  /** Exits not asked for (a crash), counted for the suite's "nothing crashes except what was killed". */
  unexpectedExits = 0;
  #expectingExit = false;

  constructor(name: string, main: string, port: number, env: Record<string, string>, logFile: string | null = null) {
    this.name = name;
    this.#main = main;
    this.port = port;
    this.#env = env;
    this.#logFile = logFile;
  }

  /** Where its whole output goes, when it has a log file. */
  get logFile(): string | null {
    return this.#logFile;
  }

  /** The last lines it wrote (logs at the loop's level), for a failing test's message. */
  recentOutput(lines = 15): string {
    return this.#output.join("").trim().split("\n").slice(-lines).join("\n");
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    this.#expectingExit = false;
    const child = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", this.#main], {
      cwd: ROOT,
      env: { ...process.env, ...this.#env, MESHLOOP_HTTP_PORT: String(this.port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (this.#logFile !== null) appendFileSync(this.#logFile, `--- ${new Date().toISOString()} ${this.name} started\n`);
    const keep = (chunk: Buffer) => {
      this.#output.push(chunk.toString());
      if (this.#output.length > 200) this.#output.shift();
      // Synchronous, so the lines of a process killed a moment later are all there, in order.
      if (this.#logFile !== null) appendFileSync(this.#logFile, chunk);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("exit", () => {
      if (!this.#expectingExit) this.unexpectedExits++;
    });
    this.#child = child;
  }

  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const child = this.#child;
      if (child === null || child.exitCode !== null || child.signalCode !== null) {
        throw new ConfigError(`the ${this.name} process exited (${child?.exitCode ?? child?.signalCode}): ${this.#output.join("").trim().split("\n").slice(-3).join(" | ")}`);
      }
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(2000) })).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new MeshloopError(`the ${this.name} process was not ready within ${timeoutMs / 1000} s`, { retriable: false, context: { port: this.port } });
  }

  /** Sends a signal; SIGKILL and SIGTERM are expected exits, SIGSTOP/SIGCONT pause and resume. */
  signal(signal: NodeJS.Signals): void {
    if (signal === "SIGKILL" || signal === "SIGTERM") this.#expectingExit = true;
    this.#child?.kill(signal);
  }

  /** SIGKILL, then a fresh process on the same port and environment, ready. */
  async restart(): Promise<void> {
    await this.stop("SIGKILL");
    this.start();
    await this.waitReady();
  }

  /** SIGTERM (graceful shutdown), SIGKILL after 20 s. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    this.#expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGCONT");
    child.kill(signal);
    const done = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
    if (!done) {
      child.kill("SIGKILL");
      await exited;
    }
  }
}
