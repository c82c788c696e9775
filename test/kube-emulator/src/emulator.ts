import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isObject, text } from "./fields.ts";
import type { JsonObject } from "./fields.ts";
import { apiVersionOf, DEFAULT_RESOURCES } from "./resources.ts";
import type { ResourceType } from "./resources.ts";
import { badRequest, StatusError } from "./status.ts";
import { ObjectStore } from "./store.ts";
import type { Validator } from "./store.ts";

/** A request as the emulator saw it: tests assert on what was sent (dryRun on every write first, the content type). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  body: unknown;
}

/** A failure to answer instead of handling the request: a 500, or a 429 with Retry-After. */
export interface InjectedFailure {
  status: number;
  reason?: string;
  message?: string;
  retryAfterSeconds?: number;
}

/** Runs before each request is handled; may change the store (a concurrent user) or return a failure to answer. */
export type RequestHook = (request: RecordedRequest) => InjectedFailure | undefined | Promise<InjectedFailure | undefined>;

export interface KubeEmulatorOptions {
  resources?: readonly ResourceType[];
  /** When set, requests need `Authorization: Bearer <token>` (else 401). */
  token?: string;
  clock?: () => Date;
}

export const APPLY_PATCH = "application/apply-patch+yaml";
export const MERGE_PATCH = "application/merge-patch+json";

/**
 * An in-process HTTP server speaking the kube-apiserver protocol details that meshloop's client relies on (see the
 * package README in this file's comments): URL layout, Status errors, resourceVersion preconditions, server-side
 * apply, dryRun=All, the scale subresource, label selectors, discovery. Bodies are JSON (JSON is valid YAML, and
 * that is what meshloop sends as apply-patch+yaml); a YAML-only body is answered 400, which a real server would take.
 */
export class KubeEmulator {
  readonly store: ObjectStore;
  readonly requests: RecordedRequest[] = [];
  readonly #types: readonly ResourceType[];
  readonly #token: string | undefined;
  readonly #hooks: RequestHook[] = [];
  #server: Server | null = null;
  #url = "";

  constructor(options: KubeEmulatorOptions = {}) {
    this.#types = options.resources ?? DEFAULT_RESOURCES;
    this.#token = options.token;
    this.store = new ObjectStore(options.clock);
  }

  get url(): string {
    if (this.#server === null) throw new Error("the emulator is not started");
    return this.#url;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  onRequest(hook: RequestHook): () => void {
    this.#hooks.push(hook);
    return () => {
      const i = this.#hooks.indexOf(hook);
      if (i !== -1) this.#hooks.splice(i, 1);
    };
  }

  /** Fails the next `count` requests that `match` selects (all by default) with `failure`. */
  failNext(count: number, failure: InjectedFailure, match: (r: RecordedRequest) => boolean = () => true): void {
    let left = count;
    const remove = this.onRequest((r) => {
      if (left <= 0 || !match(r)) return undefined;
      left -= 1;
      if (left === 0) remove();
      return failure;
    });
  }

  addValidator(validator: Validator): () => void {
    return this.store.addValidator(validator);
  }

  type(apiVersion: string, kind: string): ResourceType {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const type = this.#types.find((t) => t.group === group && t.kind === kind && t.versions.includes(version ?? ""));
    if (type === undefined) throw new Error(`the emulator does not serve ${apiVersion} ${kind}`);
    return type;
  }

  /** Creates an object as a user's tool would (an Update by `manager`, default `kubectl-create`). */
  seed(object: JsonObject | object, manager = "kubectl-create"): JsonObject {
    const o = object as JsonObject;
    const metadata = isObject(o.metadata) ? o.metadata : {};
    const type = this.type(text(o.apiVersion), text(o.kind));
    return this.store.create(type, (text(metadata.namespace) || "default"), o, { manager, dryRun: false, version: versionOf(text(o.apiVersion)) });
  }

  /** The stored object with its managedFields, or null. */
  object(apiVersion: string, kind: string, namespace: string, name: string): JsonObject | null {
    return this.store.find(this.type(apiVersion, kind), namespace, name);
  }

  /** A user's edit as `kubectl edit` makes it: read, change, update with the resourceVersion read. */
  edit(apiVersion: string, kind: string, namespace: string, name: string, change: (object: JsonObject) => void, manager = "kubectl-edit"): JsonObject {
    const type = this.type(apiVersion, kind);
    const object = this.store.get(type, versionOf(apiVersion), namespace, name);
    change(object);
    return this.store.update(type, namespace, name, object, { manager, dryRun: false, version: versionOf(apiVersion) });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? "/", "http://emulator");
      const text = await readBody(req);
      const contentType = (req.headers["content-type"] ?? null)?.split(";")[0]?.trim() ?? null;
      const request: RecordedRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType,
        body: text === "" ? undefined : parseBody(text),
      };
      this.requests.push(request);
      if (this.#token !== undefined && req.headers.authorization !== `Bearer ${this.#token}`) {
        throw new StatusError(401, "Unauthorized", "Unauthorized");
      }
      for (const hook of [...this.#hooks]) {
        const failure = await hook(request);
        if (failure !== undefined) throw injected(failure);
      }
      send(res, 200, this.#route(request, req.headers["user-agent"] ?? ""));
    } catch (error) {
      const status = error instanceof StatusError ? error : new StatusError(500, "InternalError", `Internal error occurred: ${String(error)}`);
      send(res, status.code, status.toStatus(), status.headers);
    }
  }

  #route(request: RecordedRequest, userAgent: string): JsonObject {
    const parts = request.path.split("/").filter((p) => p !== "");
    // What readiness checks ask; the real server answers its build info.
    if (request.path === "/version" && request.method === "GET") return { major: "1", minor: "33", gitVersion: "v1.33.0-meshloop-emulator" };
    let group: string;
    let rest: string[];
    if (parts[0] === "api" && parts.length >= 2) {
      group = "";
      rest = parts.slice(1);
    } else if (parts[0] === "apis" && parts.length >= 3) {
      group = parts[1]!;
      rest = parts.slice(2);
    } else {
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    }
    const version = rest[0]!;
    if (rest.length === 1 && request.method === "GET") return this.#discovery(group, version);
    let namespace: string | null = null;
    let tail = rest.slice(1);
    if (tail[0] === "namespaces" && tail.length >= 3) {
      namespace = tail[1]!;
      tail = tail.slice(2);
    }
    const [plural, name, subresource, ...extra] = tail;
    const type = this.#types.find((t) => t.group === group && t.plural === plural && t.versions.includes(version));
    if (type === undefined || extra.length > 0 || (name !== undefined && type.namespaced && namespace === null)) {
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    }
    const q = request.query;
    const dryRun = dryRunOf(q.dryRun);
    const manager = q.fieldManager ?? defaultManager(userAgent);
    if (manager.length > 128) throw badRequest("fieldManager: Too long: may not be more than 128 bytes");
    const ns = namespace ?? "";
    const options = { manager, dryRun, version };

    if (name === undefined) {
      if (request.method === "GET") return this.store.list(type, version, namespace, q.labelSelector ?? null);
      if (request.method === "POST" && namespace !== null) return this.store.create(type, ns, request.body, options);
      throw methodNotAllowed(request.method);
    }
    if (subresource === "scale") {
      if (request.method === "GET") return this.store.getScale(type, ns, name);
      if (request.method === "PATCH") {
        if (request.contentType !== MERGE_PATCH) throw unsupportedMediaType(request.contentType, [MERGE_PATCH]);
        return this.store.patchScale(type, ns, name, request.body, options);
      }
      throw methodNotAllowed(request.method);
    }
    if (subresource !== undefined) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    switch (request.method) {
      case "GET":
        return this.store.get(type, version, ns, name);
      case "PUT":
        return this.store.update(type, ns, name, request.body, options);
      case "DELETE": {
        const body = request.body;
        const pre = isObject(body) && isObject(body.preconditions) ? body.preconditions.resourceVersion : undefined;
        return this.store.delete(type, ns, name, { dryRun, ...(typeof pre === "string" ? { resourceVersion: pre } : {}) });
      }
      case "PATCH": {
        if (request.contentType !== APPLY_PATCH) throw unsupportedMediaType(request.contentType, [APPLY_PATCH]);
        if (q.fieldManager === undefined || q.fieldManager === "") {
          throw new StatusError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
            group: "meta.k8s.io",
            kind: "PatchOptions",
          });
        }
        const force = q.force === "true";
        if (q.force !== undefined && q.force !== "true" && q.force !== "false") throw badRequest(`invalid value for force: ${q.force}`);
        return this.store.apply(type, ns, name, request.body, { ...options, force });
      }
      default:
        throw methodNotAllowed(request.method);
    }
  }

  #discovery(group: string, version: string): JsonObject {
    const types = this.#types.filter((t) => t.group === group && t.versions.includes(version));
    if (types.length === 0) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const resources = types.flatMap((t): JsonObject[] => [
      { name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: ["create", "delete", "get", "list", "patch", "update"] },
      ...(t.scale === true ? [{ name: `${t.plural}/scale`, singularName: "", namespaced: t.namespaced, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] }] : []),
    ]);
    return { kind: "APIResourceList", apiVersion: "v1", groupVersion: apiVersionOf(group, version), resources };
  }
}

function versionOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.split("/")[1]! : apiVersion;
}

// The API server's default field manager for non-apply requests: the user agent up to the first '/'.
function defaultManager(userAgent: string): string {
  return userAgent.split("/")[0]?.trim() || "unknown";
}

function dryRunOf(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === "All") return true;
  throw badRequest(`dryRun: Unsupported value: "${value}": supported values: "All"`);
}

function injected(failure: InjectedFailure): StatusError {
  const reason = failure.reason ?? (failure.status === 429 ? "TooManyRequests" : failure.status >= 500 ? "InternalError" : "BadRequest");
  const message = failure.message ?? (failure.status === 429 ? "the server has received too many requests and has asked us to try again later" : "an error on the server has prevented the request from succeeding");
  const headers: Record<string, string> = failure.retryAfterSeconds === undefined ? {} : { "retry-after": String(failure.retryAfterSeconds) };
  return new StatusError(failure.status, reason, message, undefined, headers);
}

function unsupportedMediaType(got: string | null, accepted: string[]): StatusError {
  return new StatusError(415, "UnsupportedMediaType", `the body of the request was in an unknown format (${got ?? "none"}) - accepted media types include: ${accepted.join(", ")}`);
}

function methodNotAllowed(method: string): StatusError {
  return new StatusError(405, "MethodNotAllowed", `the server does not allow this method (${method}) on the requested resource`);
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest("the emulator reads JSON bodies only (JSON is valid YAML); this body is not JSON");
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: JsonObject, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
