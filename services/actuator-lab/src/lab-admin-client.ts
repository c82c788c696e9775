import { readFile } from "node:fs/promises";
import type { DesiredState } from "@meshloop/contracts";
import { MeshloopError } from "@meshloop/errors";
import type { MeshloopErrorOptions } from "@meshloop/errors";

/** The few logger methods the client uses; a pino logger fits. Nothing logged ever holds the token. */
export interface LabAdminLogger {
  debug(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export interface LabAdminClientOptions {
  /** The lab's admin API, e.g. `http://127.0.0.1:9190`. */
  adminUrl: string;
  /**
   * A file holding the bearer token the lab wants. Read on every request so that a rotated token is used at once;
   * absent: no Authorization header is sent (a lab started without a token accepts that).
   */
  tokenFile?: string;
  /** Per request; default 10 s. A timed-out request is retriable. */
  timeoutMs?: number;
  logger?: LabAdminLogger;
}

/**
 * A call to the lab's admin API that got no usable answer. `retriable` when a second try may pass (the lab away or
 * slow, a 5xx); not when it never will (an unreadable token file). The context names the request, never the token.
 */
export class LabAdminError extends MeshloopError {
  readonly status: number | undefined;

  constructor(message: string, options: MeshloopErrorOptions & { status?: number } = {}) {
    super(message, options);
    this.status = options.status;
  }
}

/** An answer the lab gave on purpose: 2xx, or a 4xx naming what it refused (`error` is its one-line reason). */
export interface LabAnswer {
  status: number;
  body: Record<string, unknown>;
  /** The lab's `error`, or the status text when the body had none. */
  error: string;
  /** Whether an Authorization header went with the request (for the remedy of a 401). */
  tokenSent: boolean;
}

export const ADMIN_TARGETS_PATH = "/admin/v1/targets";
// The lab answers one-line JSON; a proxy's HTML page in front of it is not, and is cut.
const BODY_LIMIT = 300;

/**
 * The lab's admin API (`/admin/v1/targets/{namespace}/{service}`, see services/lab/src/admin-api.ts). Answers every
 * status below 500 except 429 as a LabAnswer for the caller to judge; throws a retriable LabAdminError for a 5xx,
 * a 429, a timeout or no answer at all.
 */
export class LabAdminClient {
  readonly #options: LabAdminClientOptions;
  readonly #base: string;

  constructor(options: LabAdminClientOptions) {
    this.#options = options;
    this.#base = options.adminUrl.replace(/\/+$/, "");
  }

  /** `GET`: the generation and desired state the lab holds for the service. */
  get(namespace: string, service: string, signal?: AbortSignal): Promise<LabAnswer> {
    return this.#call("GET", namespace, service, undefined, signal);
  }

  /** `PUT {generation, desiredState}`: the lab applies it unless it holds a newer generation. */
  put(namespace: string, service: string, body: { generation: number; desiredState: DesiredState }, signal?: AbortSignal): Promise<LabAnswer> {
    return this.#call("PUT", namespace, service, body, signal);
  }

  async #token(): Promise<string | null> {
    const file = this.#options.tokenFile;
    if (file === undefined) return null;
    try {
      const token = (await readFile(file, "utf8")).trim();
      return token === "" ? null : token;
    } catch (error) {
      throw new LabAdminError(`cannot read the lab admin token file ${file}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`, {
        retriable: false,
        context: { tokenFile: file },
      });
    }
  }

  async #call(method: "GET" | "PUT", namespace: string, service: string, body: unknown, signal?: AbortSignal): Promise<LabAnswer> {
    const token = await this.#token();
    const path = `${ADMIN_TARGETS_PATH}/${encodeURIComponent(namespace)}/${encodeURIComponent(service)}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const context = { method, path };
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000);
    const started = performance.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
      text = await response.text();
    } catch (error) {
      const reason = redact(describeFailure(error, timeout), token);
      this.#options.logger?.warn({ ...context, reason }, "lab admin request failed before an answer");
      throw new LabAdminError(`${method} ${path} to the lab at ${this.#base} failed: ${reason}`, { retriable: true, cause: error, context });
    }
    text = redact(text, token);
    this.#options.logger?.debug({ ...context, status: response.status, ms: Math.round(performance.now() - started) }, "lab admin request");
    const parsed = parseObject(text);
    const error = typeof parsed?.error === "string" ? parsed.error : oneLine(text) || response.statusText;
    if (response.status >= 500 || response.status === 429) {
      throw new LabAdminError(`the lab answered ${response.status} to ${method} ${path}: ${error}`, {
        status: response.status,
        retriable: true,
        context: { ...context, status: response.status },
      });
    }
    return { status: response.status, body: parsed ?? {}, error, tokenSent: token !== null };
  }
}

function describeFailure(error: unknown, timeout: AbortSignal): string {
  if (timeout.aborted) return "no answer in time";
  const message = error instanceof Error ? error.message : String(error);
  // fetch hides the socket's reason (ECONNREFUSED, ECONNRESET) in its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${message}${cause}`;
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const json = JSON.parse(text) as unknown;
    return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > BODY_LIMIT ? `${line.slice(0, BODY_LIMIT)}…` : line;
}

/** Removes every occurrence of the token from a text, whatever echoed it. */
function redact(text: string, secret: string | null): string {
  return secret === null ? text : text.split(secret).join("[redacted]");
}
