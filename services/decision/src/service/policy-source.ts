import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Logger } from "@meshloop/runtime";
import { loadPolicies } from "../policy/load.ts";
import type { Policy } from "../policy/schema.ts";

export interface PolicySourceOptions {
  readonly files: readonly string[];
  readonly reloadIntervalMs: number;
  readonly logger: Logger;
  /** Called after every successful load (the first included) and after every refused one. */
  readonly onLoad?: (outcome: { ok: true; count: number } | { ok: false; error: Error }) => void;
}

/**
 * The policies in force, from YAML files checked for changes on an interval (polling the contents works the same
 * on every filesystem, unlike fs.watch on a ConfigMap's symlinked volume). A changed set of files is loaded whole;
 * any error keeps the last good policies and says why, so a typo never unmanages a fleet.
 */
export class PolicySource {
  readonly #options: PolicySourceOptions;
  #policies: readonly Policy[] = [];
  #fingerprint = "";
  #timer: NodeJS.Timeout | null = null;
  #loading: Promise<void> | null = null;

  constructor(options: PolicySourceOptions) {
    this.#options = options;
  }

  get policies(): readonly Policy[] {
    return this.#policies;
  }

  /** Loads the files once; throws when they are invalid, since a service must not start on policies it cannot read. */
  async start(): Promise<void> {
    const fingerprint = await this.#fingerprintOf();
    this.#policies = await this.#load();
    this.#fingerprint = fingerprint;
    this.#options.onLoad?.({ ok: true, count: this.#policies.length });
    if (this.#options.files.length > 0) {
      this.#timer = setInterval(() => void this.reload(), this.#options.reloadIntervalMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reloads if a file changed; never throws. */
  reload(): Promise<void> {
    this.#loading ??= this.#reload().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #reload(): Promise<void> {
    let fingerprint: string;
    try {
      fingerprint = await this.#fingerprintOf();
    } catch (error) {
      fingerprint = `unreadable:${(error as Error).message}`;
    }
    if (fingerprint === this.#fingerprint) return;
    this.#fingerprint = fingerprint;
    try {
      this.#policies = await this.#load();
      this.#options.logger.info({ policies: this.#policies.map((p) => p.name) }, "policies reloaded");
      this.#options.onLoad?.({ ok: true, count: this.#policies.length });
    } catch (error) {
      this.#options.logger.warn({ err: error }, "policy files changed but are invalid: keeping the last good policies");
      this.#options.onLoad?.({ ok: false, error: error as Error });
    }
  }

  async #load(): Promise<Policy[]> {
    const all: Policy[] = [];
    const names = new Map<string, string>();
    for (const file of this.#options.files) {
      const text = await readFile(file, "utf8");
      for (const policy of loadPolicies(text, file)) {
        const other = names.get(policy.name);
        if (other !== undefined) throw new Error(`${file}: policy name "${policy.name}" is used in ${other} already`);
        names.set(policy.name, file);
        all.push(policy);
      }
    }
    return all;
  }

  async #fingerprintOf(): Promise<string> {
    // The contents themselves: policy files are small, and a same-size rewrite within one mtime tick still counts.
    const hash = createHash("sha256");
    for (const file of this.#options.files) hash.update(file).update("\0").update(await readFile(file)).update("\0");
    return hash.digest("hex");
  }
}
