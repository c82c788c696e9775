import type { JsonObject } from "./fields.ts";

/** A failure the API server answers with a `Status` object: the code, the machine reason, the message people read. */
export class StatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: JsonObject | undefined;
  readonly headers: Record<string, string>;

  constructor(code: number, reason: string, message: string, details?: JsonObject, headers: Record<string, string> = {}) {
    super(message);
    this.name = "StatusError";
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = headers;
  }

  toStatus(): JsonObject {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

export function notFound(resource: string, name: string, group: string, kind: string): StatusError {
  return new StatusError(404, "NotFound", `${resource} "${name}" not found`, { name, group, kind });
}

export function invalid(qualifiedKind: string, name: string, message: string, kind: string, group: string): StatusError {
  return new StatusError(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${message}`, { name, group, kind, causes: [{ message }] });
}

/** The 409 of a stale `resourceVersion`, worded as the API server words it. */
export function modified(resource: string, name: string, group: string, kind: string): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind },
  );
}
