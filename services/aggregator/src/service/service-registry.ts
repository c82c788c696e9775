import type { TargetRef } from "@meshloop/contracts";
import type { Logger } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";

const REGISTRY_KEY = "aggregator:services";

interface Entry {
  target: TargetRef;
  lastSeenMs: number;
}

/**
 * The services any stage-1 partition has seen, shared through Redis. Stage 2 closes a service's window once every
 * spans partition reported progress for it; a partition that never saw the service would report nothing and make
 * stage 2 wait for its completeness timeout. Every stage-1 partition therefore learns all services from here and
 * sends them progress marks. Refreshed in the background; a partition that learns a service late only delays a
 * window, it never changes a count.
 */
export class ServiceRegistry {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #known = new Map<string, Entry>();
  readonly #unpublished = new Map<string, Entry>();
  #timer: NodeJS.Timeout | null = null;

  constructor(store: StateStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** What stage-1 partitions have seen locally; published at the next sync. */
  report(services: ReadonlyArray<{ service: string; target: TargetRef; lastSeenMs: number }>): void {
    for (const { service, target, lastSeenMs } of services) {
      const known = this.#known.get(service);
      if (known !== undefined && known.lastSeenMs >= lastSeenMs) continue;
      const entry = { target, lastSeenMs };
      this.#known.set(service, entry);
      this.#unpublished.set(service, entry);
    }
  }

  services(): ReadonlyMap<string, Entry> {
    return this.#known;
  }

  start(intervalMs = 2_000): void {
    this.#timer = setInterval(() => {
      this.sync().catch((error: unknown) => this.#logger.warn({ err: error }, "service registry sync failed"));
    }, intervalMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async sync(): Promise<void> {
    if (this.#unpublished.size > 0) {
      const fields: Record<string, string> = {};
      for (const [service, entry] of this.#unpublished) fields[service] = JSON.stringify(entry);
      this.#unpublished.clear();
      await this.#store.hashSet(REGISTRY_KEY, fields);
    }
    for (const [service, json] of Object.entries(await this.#store.hashGetAll(REGISTRY_KEY))) {
      const entry = JSON.parse(json) as Entry;
      const known = this.#known.get(service);
      if (known === undefined || known.lastSeenMs < entry.lastSeenMs) this.#known.set(service, entry);
    }
  }
}
