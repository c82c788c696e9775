import { MeshloopError } from "@meshloop/errors";
import type { MeshloopErrorOptions } from "@meshloop/errors";

/**
 * A call to Consul's HTTP API that did not succeed. `retriable` for what may pass on a second try (a 5xx, a 429, the
 * agent unreachable or slow); not for what never will (403 without a valid token, 400 an entry Consul rejects).
 * The context names the request, never the token.
 */
export class ConsulApiError extends MeshloopError {
  readonly status: number | undefined;

  constructor(message: string, options: MeshloopErrorOptions & { status?: number } = {}) {
    super(message, options);
    this.status = options.status;
  }
}

/** Statuses worth a retry: the server's own trouble and its rate limiting. */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

// Consul's error bodies are short text; a proxy's HTML page in front of it is not, and is cut.
const BODY_LIMIT = 300;

export function bodyMessage(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > BODY_LIMIT ? `${oneLine.slice(0, BODY_LIMIT)}…` : oneLine;
}

/** What an operator should do about a status, in the error message. */
export function remedyFor(status: number, tokenSent: boolean): string {
  if (status === 403) {
    return tokenSent
      ? "the ACL token lacks the permission (service:write, intentions:write for service-intentions) or is unknown"
      : "no ACL token was sent; configure the token file";
  }
  if (status === 429) return "Consul is rate limiting requests";
  if (status >= 500) return "Consul failed to serve the request";
  return "";
}

/** Removes every occurrence of a secret from a text, whatever echoed it. */
export function redact(text: string, secret: string | null): string {
  return secret === null || secret === "" ? text : text.split(secret).join("[redacted]");
}
