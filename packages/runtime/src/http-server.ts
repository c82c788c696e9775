import { createServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UnavailableError } from "@meshloop/errors";
import type { Registry } from "prom-client";
import type { ReadinessCheck, ReadinessCheckOptions } from "./health.ts";
import { Health } from "./health.ts";
import type { Logger } from "./logger.ts";
import type { Service } from "./service.ts";

/**
 * The ops server: probes, Prometheus metrics and the few extra routes a service exposes (the aggregator's
 * GET /graph). Plain node:http: a handful of exact paths needs no framework, and nothing here is on a hot path.
 */

export interface OpsRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** For handlers that read a body or need the socket. */
  raw: IncomingMessage;
}

export interface OpsResponse {
  /** 200 unless given. */
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as text/plain and bytes as application/octet-stream (unless headers say otherwise); anything else as JSON. */
  body?: unknown;
}

export type RouteHandler = (request: OpsRequest) => OpsResponse | Promise<OpsResponse>;

export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port; address() tells which. */
  port: number;
  registry: Registry;
  logger: Logger;
  /** Shared with the Lifecycle so that readiness follows start and shutdown; a fresh one unless given. */
  health?: Health;
}

export interface OpsAddress {
  host: string;
  port: number;
  /** http://host:port, with 127.0.0.1 for a wildcard host so that it can be fetched as it is. */
  url: string;
}

export interface OpsServer extends Service {
  readonly health: Health;
  /** Mounts a handler on an exact path; HEAD is answered by the GET handler. Throws on a taken path and method. */
  route(method: string, path: string, handler: RouteHandler): void;
  addReadinessCheck(name: string, check: ReadinessCheck, options?: ReadinessCheckOptions): () => void;
  /** Where the server listens; throws before start(). */
  address(): OpsAddress;
}

const JSON_TYPE = "application/json; charset=utf-8";

export function createOpsServer(options: OpsServerOptions): OpsServer {
  const { registry, logger } = options;
  const health = options.health ?? new Health();
  const routes = new Map<string, Map<string, RouteHandler>>();

  function route(method: string, path: string, handler: RouteHandler): void {
    const upper = method.toUpperCase();
    const byMethod = routes.get(path) ?? new Map<string, RouteHandler>();
    if (byMethod.has(upper)) throw new Error(`ops route ${upper} ${path} is already mounted`);
    byMethod.set(upper, handler);
    routes.set(path, byMethod);
  }

  route("GET", "/healthz", () =>
    health.isLive() ? json(200, { status: "ok" }) : json(503, { status: "stopping" }),
  );
  route("GET", "/readyz", async () => {
    const report = await health.readiness();
    const checks = report.checks.map(({ name, ok, durationMs, error }) =>
      ok ? { name, status: "ok", durationMs } : { name, status: "failed", durationMs, error },
    );
    return json(report.status === "ok" ? 200 : 503, { status: report.status, checks });
  });
  route("GET", "/metrics", async () => ({
    headers: { "content-type": registry.contentType },
    body: await registry.metrics(),
  }));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://ops.invalid");
    const byMethod = routes.get(url.pathname);
    let response: OpsResponse;
    if (byMethod === undefined) {
      response = json(404, { error: "not found", path: url.pathname });
    } else {
      const handler = byMethod.get(method) ?? (method === "HEAD" ? byMethod.get("GET") : undefined);
      if (handler === undefined) {
        const allowed = [...byMethod.keys(), ...(byMethod.has("GET") ? ["HEAD"] : [])].join(", ");
        response = json(405, { error: "method not allowed", allowed }, { allow: allowed });
      } else {
        try {
          response = await handler({ method, path: url.pathname, query: url.searchParams, headers: req.headers, raw: req });
        } catch (error) {
          logger.error({ err: error, method, path: url.pathname }, "ops route failed");
          response = json(500, { error: "internal error" });
        }
      }
    }
    send(res, response, method === "HEAD");
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, "ops request failed");
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  function address(): OpsAddress {
    const bound = server.address() as AddressInfo | null;
    if (bound === null) throw new Error("ops server is not listening");
    const wildcard = bound.address === "0.0.0.0" || bound.address === "::";
    const host = wildcard ? "127.0.0.1" : bound.address;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    return { host: bound.address, port: bound.port, url: `http://${urlHost}:${bound.port}` };
  }

  return {
    name: "ops-server",
    health,
    route,
    addReadinessCheck: (name, check, checkOptions) => health.addReadinessCheck(name, check, checkOptions),
    address,
    start: () =>
      new Promise<void>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          reject(new UnavailableError(`ops server cannot listen on ${options.host}:${options.port} (${error.code ?? error.message})`, {
            cause: error,
            retriable: false,
            context: { host: options.host, port: options.port },
          }));
        };
        server.once("error", onError);
        server.listen(options.port, options.host, () => {
          server.off("error", onError);
          logger.info({ url: address().url }, "ops server listening");
          resolve();
        });
      }),
    // close() lets in-flight requests finish and drops idle keep-alive connections (Prometheus keeps one open).
    stop: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeIdleConnections();
      }),
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): OpsResponse {
  return { status, headers: { "content-type": JSON_TYPE, ...headers }, body };
}

function send(res: ServerResponse, response: OpsResponse, headOnly: boolean): void {
  const headers: Record<string, string> = { "cache-control": "no-store" };
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = value;
  let payload: string | Uint8Array | undefined;
  const { body } = response;
  if (typeof body === "string") {
    payload = body;
    headers["content-type"] ??= "text/plain; charset=utf-8";
  } else if (body instanceof Uint8Array) {
    payload = body;
    headers["content-type"] ??= "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] ??= JSON_TYPE;
  }
  if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
  res.writeHead(response.status ?? 200, headers);
  res.end(headOnly ? undefined : payload);
}
