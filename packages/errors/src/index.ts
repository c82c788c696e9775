export {
  ConfigError,
  FencedError,
  isRetriable,
  MeshloopError,
  UnavailableError,
  ValidationError,
} from "./meshloop-error.ts";
export type { ErrorContext, MeshloopErrorOptions } from "./meshloop-error.ts";
export { withRetry } from "./retry.ts";
export type { RetryOptions } from "./retry.ts";
