import { FencedError, MeshloopError } from "@meshloop/errors";

/**
 * A store operation the store refused for good: a value of the wrong kind, a closed store, a script error.
 * Connection trouble is an UnavailableError instead, and an invalid argument a ValidationError.
 */
export class StoreError extends MeshloopError {}

// Both adapters raise these with Redis's own wording, so that logs read the same whichever adapter ran.
export function wrongTypeError(op: string, key: string): StoreError {
  return new StoreError(`${op} of "${key}": WRONGTYPE Operation against a key holding the wrong kind of value`, {
    context: { op, key },
  });
}

export function notIntegerError(op: string, key: string): StoreError {
  return new StoreError(`${op} of "${key}": ERR value is not an integer or out of range`, { context: { op, key } });
}

export function notNumberError(op: string, key: string): StoreError {
  return new StoreError(`${op} of "${key}": NOTNUMBER value is not a number`, { context: { op, key } });
}

export function closedError(op: string, key?: string): StoreError {
  const what = key === undefined ? op : `${op} of "${key}"`;
  return new StoreError(`${what}: the store is closed`, { context: { op, key } });
}

export function fencedError(fenceKey: string, epoch: number, key: string, currentEpoch: string): FencedError {
  return new FencedError(
    `fencedSet of "${key}": epoch ${epoch} is fenced by epoch ${currentEpoch} at "${fenceKey}"; another owner has taken over`,
    { context: { op: "fencedSet", key, fenceKey, epoch, currentEpoch: Number(currentEpoch) } },
  );
}
