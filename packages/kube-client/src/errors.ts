import { MeshloopError } from "@meshloop/errors";
import type { ErrorContext } from "@meshloop/errors";

/** What names the failing request: the object and what the API said. */
export interface KubeErrorContext extends ErrorContext {
  readonly method: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** The HTTP status; absent for a network failure. */
  readonly status?: number;
  /** The API's Status.reason, e.g. `Conflict`, `Invalid`, `NotFound`. */
  readonly reason?: string;
  /** The API's Status.message, the sentence an operator reads. */
  readonly apiMessage?: string;
}

export interface StatusCause {
  type?: string;
  message?: string;
  field?: string;
}

/**
 * A failed call to the Kubernetes API. Retriable for a 429, a 5xx or a network failure (trying again may succeed),
 * not for other 4xx (the same request is answered the same way); conflicts have their own classes below.
 */
export class KubeApiError extends MeshloopError {
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly apiMessage: string | undefined;
  readonly causes: readonly StatusCause[];
  /** Seconds from a 429's or 503's Retry-After header. */
  readonly retryAfterSeconds: number | undefined;
  override readonly context: KubeErrorContext;

  constructor(message: string, options: { context: KubeErrorContext; cause?: unknown; causes?: readonly StatusCause[]; retryAfterSeconds?: number; retriable?: boolean }) {
    const status = options.context.status;
    super(message, { context: options.context, cause: options.cause, retriable: options.retriable ?? (status === undefined || status === 429 || status >= 500) });
    this.context = options.context;
    this.status = status;
    this.reason = options.context.reason;
    this.apiMessage = options.context.apiMessage;
    this.causes = options.causes ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * A 409 because the object changed since it was read (a stale `resourceVersion` precondition). Retriable, but not
 * by sending the same request again: re-read the object, re-apply the change, and send that.
 */
export class ConflictError extends KubeApiError {
  constructor(message: string, options: ConstructorParameters<typeof KubeApiError>[1]) {
    super(message, { ...options, retriable: true });
  }
}

/**
 * A 409 from server-side apply: fields meshloop applied are owned by another field manager with a different value.
 * Not retriable: the same apply conflicts again until the other manager lets go, and meshloop never forces.
 */
export class FieldManagerConflictError extends KubeApiError {
  /** Who owns which field, e.g. `{ manager: "kubectl-edit", field: ".spec.http" }`. */
  readonly conflicts: readonly { manager: string; field: string }[];

  constructor(message: string, options: ConstructorParameters<typeof KubeApiError>[1]) {
    super(message, { ...options, retriable: false });
    this.conflicts = this.causes
      .filter((c) => c.type === "FieldManagerConflict")
      .map((c) => ({ manager: /conflict with "([^"]*)"/.exec(c.message ?? "")?.[1] ?? "", field: c.field ?? "" }));
  }
}

/** The object is not there (a 404 on a get is answered as null instead; this is for writes). */
export class NotFoundError extends KubeApiError {}

/** Builds the error for a non-2xx answer from its Status body. */
export function errorFromResponse(status: number, body: unknown, context: { method: string; kind?: string; namespace?: string; name?: string }, retryAfter: string | null): KubeApiError {
  const s = typeof body === "object" && body !== null ? (body as { kind?: unknown; reason?: unknown; message?: unknown; details?: { causes?: unknown } }) : {};
  const reason = typeof s.reason === "string" ? s.reason : undefined;
  const apiMessage = typeof s.message === "string" ? s.message : typeof body === "string" && body !== "" ? body.slice(0, 500) : undefined;
  const causes = Array.isArray(s.details?.causes) ? (s.details.causes as StatusCause[]) : [];
  const full: KubeErrorContext = { ...context, status, ...(reason === undefined ? {} : { reason }), ...(apiMessage === undefined ? {} : { apiMessage }) };
  const what = [context.kind, [context.namespace, context.name].filter((x) => x !== undefined && x !== "").join("/")].filter((x) => x !== undefined && x !== "").join(" ");
  const message = `${context.method} ${what}: ${status}${reason === undefined ? "" : ` ${reason}`}${apiMessage === undefined ? "" : `: ${apiMessage}`}`;
  const seconds = retryAfter === null ? undefined : Number(retryAfter);
  const options = { context: full, causes, ...(seconds !== undefined && Number.isFinite(seconds) ? { retryAfterSeconds: seconds } : {}) };
  if (status === 409 && causes.some((c) => c.type === "FieldManagerConflict")) return new FieldManagerConflictError(message, options);
  if (status === 409 && reason !== "AlreadyExists") return new ConflictError(message, options);
  if (status === 404) return new NotFoundError(message, options);
  return new KubeApiError(message, options);
}
