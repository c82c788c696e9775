import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UnavailableError } from "@meshloop/errors";
import type { Logger } from "@meshloop/runtime";
import type { EventStream, StreamEvent } from "./event-stream.ts";

/**
 * The console's own web server, apart from the ops port: the page, its JSON API and its event stream. Plain
 * node:http like the ops server: five exact routes need no framework.
 */

const MAX_BODY_BYTES = 16 * 1024;
const JSON_TYPE = "application/json; charset=utf-8";

export interface ControlAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface ConsoleApi {
  /** The page with its script and style carrying `nonce`, allowed by the Content-Security-Policy. */
  page(nonce: string): string;
  state(): Promise<unknown>;
  graph(): Promise<unknown>;
  /** What a new event-stream connection receives first. */
  initialEvents(): Promise<StreamEvent[]>;
  /** `body` is the parsed JSON, or undefined when the body was not JSON. */
  control(headers: IncomingHttpHeaders, body: unknown): Promise<ControlAnswer>;
}

export interface ConsoleServerOptions {
  host: string;
  port: number;
  api: ConsoleApi;
  events: EventStream;
  logger: Logger;
}

export interface ConsoleAddress {
  host: string;
  port: number;
  url: string;
}

export interface ConsoleServer {
  start(): Promise<void>;
  stop(): Promise<void>;
  address(): ConsoleAddress;
}

export function createConsoleServer(options: ConsoleServerOptions): ConsoleServer {
  const { api, events, logger } = options;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://console.invalid").pathname;
    const get = method === "GET" || method === "HEAD";
    if (path === "/" && get) {
      const nonce = randomBytes(16).toString("base64");
      return send(res, 200, api.page(nonce), {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
      }, method === "HEAD");
    }
    if (path === "/api/state" && get) return send(res, 200, JSON.stringify(await api.state()), { "content-type": JSON_TYPE }, method === "HEAD");
    if (path === "/api/graph" && get) return send(res, 200, JSON.stringify(await api.graph()), { "content-type": JSON_TYPE }, method === "HEAD");
    if (path === "/api/events" && method === "GET") {
      events.open(res, await api.initialEvents());
      return;
    }
    if (path === "/api/control" && method === "POST") {
      const body = await readJson(req);
      if (body === TOO_LARGE) return sendJson(res, 413, { error: `the body is larger than ${MAX_BODY_BYTES} bytes` });
      const answer = await api.control(req.headers, body);
      return sendJson(res, answer.status, answer.body, answer.status === 401 ? { "www-authenticate": 'Bearer realm="meshloop-console"' } : {});
    }
    const known = ["/", "/api/state", "/api/graph", "/api/events", "/api/control"].includes(path);
    return sendJson(res, known ? 405 : 404, { error: known ? `method ${method} not allowed on ${path}` : `not found: ${path}` });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, method: req.method, url: req.url }, "console request failed");
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: "internal error" });
    });
  });

  function address(): ConsoleAddress {
    const bound = server.address() as AddressInfo | null;
    if (bound === null) throw new UnavailableError("the console is not listening", { retriable: false });
    const wildcard = bound.address === "0.0.0.0" || bound.address === "::";
    const host = wildcard ? "127.0.0.1" : bound.address;
    return { host: bound.address, port: bound.port, url: `http://${host.includes(":") ? `[${host}]` : host}:${bound.port}` };
  }

  return {
    address,
    start: () =>
      new Promise<void>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) =>
          reject(new UnavailableError(`the console cannot listen on ${options.host}:${options.port} (${error.code ?? error.message})`, { cause: error, retriable: false, context: { host: options.host, port: options.port } }));
        server.once("error", onError);
        server.listen(options.port, options.host, () => {
          server.off("error", onError);
          resolve();
        });
      }),
    // Event streams never end by themselves: they are closed first, or close() would wait for them forever.
    stop: () =>
      new Promise<void>((resolve, reject) => {
        events.close();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeIdleConnections();
      }),
  };
}

const TOO_LARGE: unique symbol = Symbol("too large");

/** The parsed JSON body; undefined when it is not JSON or not declared as JSON (a form a foreign page could post). */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return TOO_LARGE;
    chunks.push(chunk);
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body), { "content-type": JSON_TYPE, ...headers }, false);
}

function send(res: ServerResponse, status: number, payload: string, headers: Record<string, string>, headOnly: boolean): void {
  res.writeHead(status, { "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers, "content-length": String(Buffer.byteLength(payload)) });
  res.end(headOnly ? undefined : payload);
}
