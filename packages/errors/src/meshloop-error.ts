/**
 * The one error base class of meshloop. Every package throws subclasses of it so that callers can decide
 * uniformly: `retriable` says whether trying the same operation again may succeed, `context` carries what
 * an operator needs to find the failing piece (topic, partition, key, variable), `cause` keeps the original.
 */
export interface ErrorContext {
  readonly [key: string]: string | number | boolean | undefined;
}

export interface MeshloopErrorOptions {
  /** Whether repeating the same operation may succeed (a broker briefly away), or never will (bad input). */
  retriable?: boolean;
  cause?: unknown;
  context?: ErrorContext;
}

export class MeshloopError extends Error {
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, options: MeshloopErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

/** A configuration value that is missing or not allowed; its message is one line naming the setting. */
export class ConfigError extends MeshloopError {
  constructor(message: string, options: Omit<MeshloopErrorOptions, "retriable"> = {}) {
    super(message, { ...options, retriable: false });
  }
}

/** Input that can never be processed as it is (a malformed message, an invalid policy). */
export class ValidationError extends MeshloopError {
  constructor(message: string, options: Omit<MeshloopErrorOptions, "retriable"> = {}) {
    super(message, { ...options, retriable: false });
  }
}

/** Infrastructure that is not there or not answering (Kafka, Redis, a mesh API). Retriable unless said otherwise. */
export class UnavailableError extends MeshloopError {
  constructor(message: string, options: MeshloopErrorOptions = {}) {
    super(message, { retriable: true, ...options });
  }
}

/** An operation that was refused because another writer owns the resource now (a fenced zombie, a lost lease). */
export class FencedError extends MeshloopError {
  constructor(message: string, options: Omit<MeshloopErrorOptions, "retriable"> = {}) {
    super(message, { ...options, retriable: false });
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof MeshloopError && error.retriable;
}
