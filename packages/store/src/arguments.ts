import { ValidationError } from "@meshloop/errors";

/**
 * Argument checks shared by both adapters, so that a bad call fails the same way (a ValidationError, before
 * anything is sent) whichever adapter runs, instead of as whatever Redis happens to say about it.
 */

export function checkKey(op: string, key: string): void {
  if (typeof key !== "string" || key === "") {
    throw new ValidationError(`${op}: keys must be non-empty strings, got ${JSON.stringify(key)}`, { context: { op } });
  }
}

export function checkKeys(op: string, keys: readonly string[]): void {
  for (const key of keys) checkKey(op, key);
}

export function checkPrefix(prefix: string): void {
  if (typeof prefix !== "string") {
    throw new ValidationError(`keys: prefix must be a string ("" for all keys), got ${typeof prefix}`, { context: { op: "keys" } });
  }
}

export function checkTtl(op: string, key: string, ttlMs: number | undefined): void {
  if (ttlMs === undefined) return;
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new ValidationError(`${op} of "${key}": ttlMs must be a positive integer of milliseconds, got ${ttlMs}`, {
      context: { op, key },
    });
  }
}

export function checkIncrement(key: string, by: number): void {
  if (!Number.isSafeInteger(by)) {
    throw new ValidationError(`increment of "${key}": by must be a safe integer, got ${by}`, {
      context: { op: "increment", key },
    });
  }
}

export function checkFinite(op: string, key: string, name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ValidationError(`${op} of "${key}": ${name} must be a finite number, got ${value}`, {
      context: { op, key },
    });
  }
}

/** Range bounds may be ±Infinity for open ends, but never NaN, which Redis would refuse. */
export function checkBounds(op: string, key: string, min: number, max: number): void {
  if (typeof min !== "number" || typeof max !== "number" || Number.isNaN(min) || Number.isNaN(max)) {
    throw new ValidationError(`${op} of "${key}": min and max must be numbers or ±Infinity, got ${min} and ${max}`, {
      context: { op, key },
    });
  }
}

export function checkLimit(op: string, key: string, limit: number | undefined): void {
  if (limit === undefined) return;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new ValidationError(`${op} of "${key}": limit must be an integer >= 0, got ${limit}`, {
      context: { op, key },
    });
  }
}

export function checkEpoch(key: string, epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new ValidationError(`fencedSet of "${key}": epoch must be an integer >= 0, got ${epoch}`, {
      context: { op: "fencedSet", key },
    });
  }
}

/** A string Redis's INCRBY accepts: a base-10 integer without sign noise, spaces or leading zeros. */
export function parseRedisInteger(value: string): number | undefined {
  if (!/^(0|-?[1-9]\d{0,18})$/.test(value)) return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}

/** A string the setMax and fencedSet scripts accept as a number (Lua's tonumber, finite). */
export function parseRedisNumber(value: string): number | undefined {
  if (value.trim() === "") return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}
