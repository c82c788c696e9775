import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { validateChain, validateShape } from "./entry-validation.ts";
import type { Entry } from "./entry-validation.ts";

/**
 * An in-process emulator of Consul's config-entry HTTP API (`/v1/config`) with the semantics meshloop relies on: one
 * Raft index for the whole store that every write moves, CreateIndex/ModifyIndex on entries, check-and-set writes and
 * deletes answering `true`/`false` with HTTP 200 (cas 0: create only), ACL tokens (`X-Consul-Token`, 403 otherwise),
 * entry and discovery-chain validation (400), Enterprise `ns`/`partition` scopes, and hooks to inject a failure or
 * another writer's change between a read and a write. `GET /v1/status/leader` answers too, for readiness probes.
 */
export interface EmulatorOptions {
  /** ACL tokens and what they may do; absent: ACLs are off and any request passes. */
  tokens?: Record<string, "read" | "write">;
  /** The Raft index the store starts at. */
  startIndex?: number;
}

export interface Scope {
  namespace?: string;
  partition?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The token header's value as received. */
  token: string | undefined;
  body: unknown;
}

interface Failure {
  status: number;
  body: string;
  times: number;
  method: string | undefined;
}

export class ConsulEmulator {
  readonly requests: RecordedRequest[] = [];
  /** What `GET /v1/status/leader` answers: the leader's address, "" while the cluster has no leader. */
  leader = "127.0.0.1:8300";
  #index: number;
  readonly #entries = new Map<string, Entry>();
  readonly #options: EmulatorOptions;
  readonly #server: Server;
  readonly #failures: Failure[] = [];
  readonly #beforeWrite: (() => void | Promise<void>)[] = [];

  private constructor(options: EmulatorOptions) {
    this.#options = options;
    this.#index = options.startIndex ?? 10;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => send(res, 500, `emulator: ${String(error)}`));
    });
  }

  static async start(options: EmulatorOptions = {}): Promise<ConsulEmulator> {
    const emulator = new ConsulEmulator(options);
    await new Promise<void>((resolve) => emulator.#server.listen(0, "127.0.0.1", resolve));
    return emulator;
  }

  get address(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The store's Raft index: the ModifyIndex of the last write. */
  get index(): number {
    return this.#index;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error === undefined ? resolve() : reject(error))));
  }

  /** Another writer's unconditional write, bypassing ACLs and validation (a test's setup or a concurrent change). */
  put(entry: Record<string, unknown> & { Kind: string; Name: string }, scope: Scope = {}): Entry {
    const key = keyOf(entry.Kind, entry.Name, scope);
    const before = this.#entries.get(key);
    const { CreateIndex: _c, ModifyIndex: _m, ...body } = entry;
    const stored: Entry = { ...structuredClone(body), Kind: entry.Kind, Name: entry.Name, CreateIndex: before?.CreateIndex ?? this.#index + 1, ModifyIndex: ++this.#index };
    this.#entries.set(key, stored);
    return structuredClone(stored);
  }

  get(kind: string, name: string, scope: Scope = {}): Entry | undefined {
    const entry = this.#entries.get(keyOf(kind, name, scope));
    return entry === undefined ? undefined : structuredClone(entry);
  }

  /** Every stored entry, for asserting that nothing else changed. */
  all(): Entry[] {
    return [...this.#entries.values()].map((e) => structuredClone(e));
  }

  /** The next `times` requests (of `method`, if given) are answered `status` with `body`; status 0 drops the connection. */
  failNext(status: number, options: { body?: string; times?: number; method?: string } = {}): void {
    this.#failures.push({ status, body: options.body ?? "rpc error making call: leadership lost while committing log", times: options.times ?? 1, method: options.method });
  }

  /** Runs `hook` when the next write (PUT or DELETE) arrives, before it is checked: a concurrent writer's moment. */
  beforeNextWrite(hook: () => void | Promise<void>): void {
    this.#beforeWrite.push(hook);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator");
    const text = await readBody(req);
    const token = header(req, "x-consul-token");
    const body = text === "" ? undefined : safeJson(text);
    this.requests.push({ method: req.method ?? "", path: url.pathname, query: Object.fromEntries(url.searchParams), token, body });

    const failure = this.#failures.find((f) => f.method === undefined || f.method === req.method);
    if (failure !== undefined) {
      if (--failure.times === 0) this.#failures.splice(this.#failures.indexOf(failure), 1);
      if (failure.status === 0) {
        req.socket.destroy();
        return;
      }
      return send(res, failure.status, failure.body);
    }
    // Consul serves its status endpoints without an ACL check.
    if (req.method === "GET" && url.pathname === "/v1/status/leader") return sendJson(res, 200, this.leader, this.#index);
    const write = req.method === "PUT" || req.method === "DELETE";
    const denied = this.#acl(token, write);
    if (denied !== null) return send(res, 403, denied);
    if (write) await this.#beforeWrite.shift()?.();

    const scope: Scope = { namespace: url.searchParams.get("ns") ?? undefined, partition: url.searchParams.get("partition") ?? undefined };
    const cas = url.searchParams.get("cas");
    if (cas !== null && !/^\d+$/.test(cas)) return send(res, 400, `Bad request: cas must be an unsigned integer, got ${cas}`);
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
    if (parts[0] !== "v1" || parts[1] !== "config") return send(res, 404, "Invalid URL path: not a config endpoint");
    const [kind, name] = [parts[2], parts[3]];

    if (req.method === "GET" && kind !== undefined && name === undefined) {
      const list = [...this.#entries.entries()].filter(([k, e]) => e.Kind === kind && k.startsWith(scopePrefix(scope))).map(([, e]) => e);
      return sendJson(res, 200, list, this.#index);
    }
    if (req.method === "GET" && kind !== undefined && name !== undefined) {
      const entry = this.#entries.get(keyOf(kind, name, scope));
      if (entry === undefined) return send(res, 404, `Config entry not found for "${kind}" / "${name}"`);
      return sendJson(res, 200, entry, this.#index);
    }
    if (req.method === "PUT" && kind === undefined) {
      if (body === undefined || body === INVALID) return send(res, 400, "Request decoding failed: the body is not JSON");
      const shape = validateShape(body);
      if (shape !== null) return send(res, 400, `Bad request: ${shape}`);
      const entry = body as Entry;
      const entryScope: Scope = { namespace: scope.namespace ?? str(entry.Namespace), partition: scope.partition ?? str(entry.Partition) };
      return this.#write(res, keyOf(entry.Kind, entry.Name, entryScope), entry, cas === null ? null : Number(cas), entryScope);
    }
    if (req.method === "DELETE" && kind !== undefined && name !== undefined) {
      return this.#write(res, keyOf(kind, name, scope), null, cas === null ? null : Number(cas), scope);
    }
    return send(res, 405, `method ${req.method} not allowed on ${url.pathname}`);
  }

  /** A write or (entry null) a delete, check-and-set when `cas` is given, then the discovery chains checked. */
  #write(res: ServerResponse, key: string, entry: Entry | null, cas: number | null, scope: Scope): void {
    const before = this.#entries.get(key);
    if (cas !== null) {
      const holds = cas === 0 ? before === undefined : before?.ModifyIndex === cas;
      // A CAS delete of what is gone already has nothing to compare: Consul answers false.
      if (!holds) return sendJson(res, 200, false, this.#index);
    }
    if (entry === null) {
      if (before === undefined) return sendJson(res, 200, true, this.#index);
      this.#entries.delete(key);
    } else {
      const { CreateIndex: _c, ModifyIndex: _m, ...fields } = entry;
      this.#entries.set(key, { ...fields, Kind: entry.Kind, Name: entry.Name, CreateIndex: before?.CreateIndex ?? this.#index + 1, ModifyIndex: this.#index + 1 });
    }
    const problem = this.#chains(scope);
    if (problem !== null) {
      if (before === undefined) this.#entries.delete(key);
      else this.#entries.set(key, before);
      return send(res, 400, `Bad request: ${problem}`);
    }
    this.#index++;
    return sendJson(res, 200, true, this.#index);
  }

  #chains(scope: Scope): string | null {
    const lookup = (kind: string, name: string): Entry | undefined => this.#entries.get(keyOf(kind, name, scope));
    const roots = new Set([...this.#entries.entries()].filter(([k, e]) => k.startsWith(scopePrefix(scope)) && (e.Kind === "service-splitter" || e.Kind === "service-router")).map(([, e]) => e.Name));
    for (const root of [...roots].sort()) {
      const problem = validateChain(root, lookup);
      if (problem !== null) return problem;
    }
    return null;
  }

  #acl(token: string | undefined, write: boolean): string | null {
    const tokens = this.#options.tokens;
    if (tokens === undefined) return null;
    const permission = write ? "service:write" : "service:read";
    if (token === undefined || token === "") return `Permission denied: anonymous token lacks permission '${permission}'`;
    const grant = tokens[token];
    if (grant === undefined) return "ACL not found";
    if (write && grant !== "write") return `Permission denied: token lacks permission '${permission}'`;
    return null;
  }
}

const INVALID = Symbol("invalid JSON");

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID;
  }
}

function keyOf(kind: string, name: string, scope: Scope): string {
  return `${scopePrefix(scope)}${kind}/${name}`;
}

function scopePrefix(scope: Scope): string {
  return `${scope.partition ?? "default"}/${scope.namespace ?? "default"}/`;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown, index: number): void {
  res.writeHead(status, { "content-type": "application/json", "x-consul-index": String(index) }).end(JSON.stringify(body));
}
