import { readFile } from "node:fs/promises";
import type { ConfigEntry, ConfigEntryBase } from "../config-entries.ts";
import type { EntryRef } from "../translation.ts";
import { bodyMessage, ConsulApiError, isRetriableStatus, redact, remedyFor } from "./consul-errors.ts";

/** The few logger methods the client uses; a pino logger fits. Nothing logged ever holds the token. */
export interface ConsulLogger {
  debug(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export interface ConsulClientOptions {
  /** The agent or server's HTTP address, e.g. `http://127.0.0.1:8500`. */
  address: string;
  /**
   * A file holding the ACL token, sent as `X-Consul-Token`. Read on every request so a rotated token is used at once;
   * absent: no token is sent (Consul then applies its anonymous token).
   */
  tokenFile?: string;
  /** Consul Enterprise: the namespace and admin partition used when an entry or call names none. */
  namespace?: string;
  partition?: string;
  /** Per request; default 10 s. A timed-out request is retriable. */
  timeoutMs?: number;
  logger?: ConsulLogger;
  fetch?: typeof fetch;
}

/** Where an entry lives in Consul Enterprise; empty on Consul CE. */
export interface EntryScope {
  namespace?: string;
  partition?: string;
}

/** A config entry as Consul returned it: its Raft indexes are always there. */
export type StoredEntry<T extends ConfigEntryBase = ConfigEntry> = T & { CreateIndex: number; ModifyIndex: number };

interface Call {
  method: "GET" | "PUT" | "DELETE";
  path: string;
  query: URLSearchParams;
  body?: unknown;
  /** For the error's context. */
  kind?: string;
  name?: string;
  /** The caller's own cancellation, on top of the per-request timeout. */
  signal?: AbortSignal;
}

/**
 * Consul's config-entry HTTP API (`/v1/config`), with check-and-set. Writes answer a boolean, as Consul does: `false`
 * means the entry's ModifyIndex moved since it was read (or, with cas 0, that it exists), not an error; the caller
 * re-reads and decides again. Every other failure is a ConsulApiError.
 */
export class ConsulClient {
  readonly #options: ConsulClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: ConsulClientOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  /** `GET /v1/config/:kind/:name`; null when there is no such entry. */
  async getEntry<T extends ConfigEntryBase = ConfigEntry>(kind: string, name: string, scope: EntryScope = {}): Promise<StoredEntry<T> | null> {
    const result = await this.#call({ method: "GET", path: `/v1/config/${enc(kind)}/${enc(name)}`, query: this.#scope(scope), kind, name }, [404]);
    return result.status === 404 ? null : (result.json as StoredEntry<T>);
  }

  /** `GET /v1/config/:kind`: every entry of a kind in the scope. */
  async listEntries<T extends ConfigEntryBase = ConfigEntry>(kind: string, scope: EntryScope = {}): Promise<StoredEntry<T>[]> {
    const result = await this.#call({ method: "GET", path: `/v1/config/${enc(kind)}`, query: this.#scope(scope), kind });
    return (result.json ?? []) as StoredEntry<T>[];
  }

  /**
   * `PUT /v1/config`: with `cas` (the ModifyIndex the entry was read at; 0 to create only) a check-and-set that
   * answers false when the entry changed meanwhile; without, an unconditional write. The body carries no indexes.
   */
  async putEntry(entry: ConfigEntryBase, options: { cas?: number } = {}): Promise<boolean> {
    const query = this.#scope({ namespace: entry.Namespace, partition: entry.Partition });
    if (options.cas !== undefined) query.set("cas", String(options.cas));
    const { CreateIndex: _c, ModifyIndex: _m, ...body } = entry;
    const result = await this.#call({ method: "PUT", path: "/v1/config", query, body, kind: entry.Kind, name: entry.Name });
    return expectBoolean(result.json, "PUT", entry.Kind, entry.Name);
  }

  /** `DELETE /v1/config/:kind/:name`, with `cas` a check-and-set like putEntry's; deleting a missing entry is true. */
  async deleteEntry(ref: EntryRef, options: { cas?: number } = {}): Promise<boolean> {
    const query = this.#scope({ namespace: ref.namespace, partition: ref.partition });
    if (options.cas !== undefined) query.set("cas", String(options.cas));
    const result = await this.#call({ method: "DELETE", path: `/v1/config/${enc(ref.kind)}/${enc(ref.name)}`, query, kind: ref.kind, name: ref.name });
    // Without cas, Consul versions differ in the body they answer (empty, `true`, `{}`); success is the status.
    if (options.cas === undefined) return true;
    return expectBoolean(result.json, "DELETE", ref.kind, ref.name);
  }

  /**
   * `GET /v1/status/leader`: the Raft leader's address, or "" when the cluster has none (config entries can then be
   * neither read consistently nor written). The readiness probe's view of Consul.
   */
  async leader(options: { signal?: AbortSignal } = {}): Promise<string> {
    const result = await this.#call({ method: "GET", path: "/v1/status/leader", query: new URLSearchParams(), ...(options.signal === undefined ? {} : { signal: options.signal }) });
    if (typeof result.json === "string") return result.json;
    throw new ConsulApiError(`Consul answered GET /v1/status/leader with ${JSON.stringify(result.json)}, not an address`, { retriable: false, context: { method: "GET", path: "/v1/status/leader" } });
  }

  #scope(scope: EntryScope): URLSearchParams {
    const query = new URLSearchParams();
    const namespace = scope.namespace ?? this.#options.namespace;
    const partition = scope.partition ?? this.#options.partition;
    if (namespace !== undefined) query.set("ns", namespace);
    if (partition !== undefined) query.set("partition", partition);
    return query;
  }

  async #token(): Promise<string | null> {
    const file = this.#options.tokenFile;
    if (file === undefined) return null;
    try {
      const token = (await readFile(file, "utf8")).trim();
      return token === "" ? null : token;
    } catch (error) {
      throw new ConsulApiError(`cannot read the Consul ACL token file ${file}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`, {
        retriable: false,
        context: { tokenFile: file },
      });
    }
  }

  async #call(call: Call, accepted: readonly number[] = []): Promise<{ status: number; json: unknown }> {
    const token = await this.#token();
    const query = call.query.toString();
    const path = `${call.path}${query === "" ? "" : `?${query}`}`;
    const url = new URL(path, this.#options.address);
    const headers: Record<string, string> = { accept: "application/json" };
    if (token !== null) headers["X-Consul-Token"] = token;
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const context = { method: call.method, path: call.path, kind: call.kind, name: call.name };
    const started = performance.now();
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: call.method,
        headers,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: call.signal === undefined ? AbortSignal.timeout(this.#options.timeoutMs ?? 10_000) : AbortSignal.any([call.signal, AbortSignal.timeout(this.#options.timeoutMs ?? 10_000)]),
      });
    } catch (error) {
      const reason = redact(error instanceof Error ? error.message : String(error), token);
      this.#options.logger?.warn({ ...context, reason }, "Consul request failed before an answer");
      throw new ConsulApiError(`${call.method} ${call.path} to Consul at ${url.origin} failed: ${reason}`, { retriable: true, context });
    }
    const text = redact(await response.text(), token);
    this.#options.logger?.debug({ ...context, status: response.status, ms: Math.round(performance.now() - started) }, "Consul request");
    // Consul answers a missing entry with 404 and a plain-text body, so only a 2xx body is parsed.
    if (accepted.includes(response.status) && !response.ok) return { status: response.status, json: null };
    if (response.ok) {
      return { status: response.status, json: text === "" ? null : parseJson(text, call) };
    }
    const message = bodyMessage(text);
    const remedy = remedyFor(response.status, token !== null);
    const what = call.kind === undefined ? call.path : `${call.kind}${call.name === undefined ? "" : ` ${call.name}`}`;
    throw new ConsulApiError(`Consul answered ${response.status} to ${call.method} ${what}: ${message || response.statusText}${remedy === "" ? "" : ` (${remedy})`}`, {
      status: response.status,
      retriable: isRetriableStatus(response.status),
      context: { ...context, status: response.status, message },
    });
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function parseJson(text: string, call: Call): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ConsulApiError(`Consul answered ${call.method} ${call.path} with a body that is not JSON: ${bodyMessage(text)}`, {
      retriable: false,
      context: { method: call.method, path: call.path, kind: call.kind, name: call.name },
    });
  }
}

function expectBoolean(json: unknown, method: string, kind: string, name: string): boolean {
  if (typeof json === "boolean") return json;
  throw new ConsulApiError(`Consul answered ${method} ${kind} ${name} with ${JSON.stringify(json)}, not true or false`, { retriable: false, context: { method, kind, name } });
}
