import { MeshloopError, UnavailableError } from "@meshloop/errors";
import { StoreError } from "./store-error.ts";

/** Network failures of the socket: Redis is not there or not reachable, which may pass. */
const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** ioredis's own words for a command it gave up on because the connection was not there. */
const connectionMessages = [
  "Connection is closed.",
  "Stream isn't writeable",
  "Reached the max retries per request limit",
];

/** Replies of a server that is there but cannot serve now: loading, busy with a script, failing over, full. */
const transientReplies = new Set(["LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "MISCONF", "OOM"]);

export interface FailureSite {
  op: string;
  /** The caller's key (without the prefix); absent for operations on several keys. */
  key: string | undefined;
  /** The server, without credentials. */
  address: string;
  /** The last error the connection reported: why a command found no connection. */
  lastConnectionError: Error | undefined;
}

/**
 * Turns what ioredis rejected with into the error the port promises: UnavailableError (retriable) when Redis
 * was not reachable or not able to serve, StoreError (not retriable) when Redis refused the command itself.
 */
export function toStoreError(error: unknown, site: FailureSite): MeshloopError {
  if (error instanceof MeshloopError) return error;
  const source = error instanceof Error ? error : new Error(String(error));
  const what = site.key === undefined ? site.op : `${site.op} of "${site.key}"`;
  const context = { op: site.op, key: site.key };

  if (source.name === "ReplyError") {
    const reply = source.message.split(" ", 1)[0] ?? "";
    if (transientReplies.has(reply)) {
      return new UnavailableError(`${what}: redis at ${site.address} cannot serve now: ${source.message}`, {
        cause: error,
        context: { ...context, reply },
      });
    }
    return new StoreError(`${what}: ${source.message}`, { cause: error, context: { ...context, reply } });
  }

  if (source.message === "Command timed out") {
    // The command may have reached Redis: its effect is unknown, which matters for increment.
    return new UnavailableError(`${what}: redis at ${site.address} did not answer in time; the command may or may not have been applied`, {
      cause: error,
      context,
    });
  }

  const code = (source as NodeJS.ErrnoException).code;
  if (
    (code !== undefined && connectionCodes.has(code)) ||
    source.name === "MaxRetriesPerRequestError" ||
    connectionMessages.some((message) => source.message.startsWith(message))
  ) {
    // ioredis's "max retries" message says nothing about Redis; the connection's own last error does.
    const reason = site.lastConnectionError === undefined
      ? source.message
      : `${site.lastConnectionError.message} (${source.name === "MaxRetriesPerRequestError" ? "the command was dropped after reconnecting failed" : source.message})`;
    return new UnavailableError(`${what}: redis at ${site.address} is unavailable: ${reason}`, {
      cause: error,
      context,
    });
  }

  return new StoreError(`${what}: ${source.message}`, { cause: error, context });
}
