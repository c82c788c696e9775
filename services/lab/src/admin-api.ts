import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { DesiredState } from "@meshloop/contracts";
import { desiredStateSchema } from "@meshloop/contracts";
import type { RouteEntry, RouteTable } from "./route-table.ts";

/**
 * The only way to change the lab's route table, and what the lab actuator calls:
 *
 *   PUT /admin/v1/targets/{namespace}/{service}  body { "generation": number, "desiredState": DesiredState }
 *     200 { "changed": boolean }             applied (changed: false when the state equals the one held)
 *     400 { "error": "<one line>" }          not JSON, or not the schema, or the state's target is not this path
 *     404 { "error": "<one line>" }          no such service in the lab
 *     409 { "error", "appliedGeneration" }   the lab holds a newer generation (or this one with another state)
 *   GET  same path -> 200 { generation, desiredState } | 404 { error }
 *   401 { error } on a missing or wrong bearer token, when a token is configured.
 */

export const ADMIN_PATH_PREFIX = "/admin/v1/targets/";
const MAX_BODY_BYTES = 1 << 20;

export const putBodySchema = z.object({ generation: z.int().min(0), desiredState: desiredStateSchema });

export interface AdminApiOptions {
  routeTable: RouteTable;
  mesh: string;
  namespace: string;
  hasService: (service: string) => boolean;
  /** Runs before a state is committed (a replicas change starts or stops instances); a throw answers 500. */
  beforeApply?: (service: string, state: DesiredState, previous: RouteEntry | null) => Promise<void>;
  token?: string;
  host?: string;
  port?: number;
}

export interface AdminApi {
  url: string;
  close(): Promise<void>;
}

export async function startAdminApi(options: AdminApiOptions): Promise<AdminApi> {
  // One change at a time: a scale must finish before the next state is judged against the table.
  let queue: Promise<unknown> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const run = queue.then(() => handle(options, req, res)).catch((error: unknown) => {
      reply(res, 500, { error: oneLine(error instanceof Error ? error.message : String(error)) });
    });
    queue = run;
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(options: AdminApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0]!;
  if (!path.startsWith(ADMIN_PATH_PREFIX)) return reply(res, 404, { error: `no such path ${path}` });
  if (options.token !== undefined && !authorized(req.headers.authorization, options.token)) {
    return reply(res, 401, { error: "missing or wrong bearer token" });
  }
  const parts = path.slice(ADMIN_PATH_PREFIX.length).split("/").map(decodeURIComponent);
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return reply(res, 404, { error: `expected ${ADMIN_PATH_PREFIX}{namespace}/{service}` });
  }
  const [namespace, service] = parts as [string, string];
  if (namespace !== options.namespace || !options.hasService(service)) {
    return reply(res, 404, { error: `the lab has no service ${namespace}/${service}` });
  }
  if (req.method === "GET") {
    const entry = options.routeTable.get(service);
    if (!entry) return reply(res, 404, { error: `no desired state applied to ${namespace}/${service}` });
    return reply(res, 200, { generation: entry.generation, desiredState: entry.desiredState });
  }
  if (req.method !== "PUT") return reply(res, 405, { error: `method ${req.method} not allowed; use GET or PUT` });

  const text = await readBody(req);
  if (text === null) return reply(res, 400, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return reply(res, 400, { error: oneLine(`body is not JSON: ${(error as Error).message}`) });
  }
  const parsed = putBodySchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const where = first.path.length ? `${first.path.join(".")}: ` : "";
    return reply(res, 400, { error: oneLine(`${where}${first.message}`) });
  }
  const { generation, desiredState } = parsed.data;
  const { target } = desiredState;
  if (target.mesh !== options.mesh || target.namespace !== namespace || target.service !== service) {
    return reply(res, 400, {
      error: `desiredState.target ${target.mesh}/${target.namespace}/${target.service} is not ${options.mesh}/${namespace}/${service}`,
    });
  }
  const held = options.routeTable.get(service);
  const conflict = options.routeTable.check(service, generation, desiredState);
  if (conflict) return reply(res, 409, { error: conflict.reason, appliedGeneration: conflict.appliedGeneration });
  await options.beforeApply?.(service, desiredState, held);
  const result = options.routeTable.apply(service, generation, desiredState);
  if (result.kind === "conflict") return reply(res, 409, { error: result.reason, appliedGeneration: result.appliedGeneration });
  return reply(res, 200, { changed: result.changed });
}

function authorized(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? "");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
