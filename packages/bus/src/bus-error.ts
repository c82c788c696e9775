import { FencedError, MeshloopError } from "@meshloop/errors";
import type { ErrorContext } from "@meshloop/errors";

/** Any failure of the bus; `retriable` comes from the client's own judgement of the broker's answer. */
export class BusError extends MeshloopError {}

/** Broker error types that mean another producer with our transactional id has taken over. */
const fencedTypes = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"]);

/** Wraps whatever kafkajs (or the memory adapter) threw, keeping `retriable` and naming the topic. */
export function toBusError(error: unknown, what: string, context: ErrorContext = {}): MeshloopError {
  if (error instanceof MeshloopError) return error;
  const source = error as { message?: string; retriable?: boolean; type?: string; name?: string } | undefined;
  const message = `${what}: ${source?.message ?? String(error)}`;
  if (source?.type !== undefined && fencedTypes.has(source.type)) {
    return new FencedError(message, { cause: error, context: { ...context, type: source.type } });
  }
  return new BusError(message, {
    cause: error,
    retriable: source?.retriable === true,
    context: source?.type === undefined ? context : { ...context, type: source.type },
  });
}
