import { z } from "zod";

/**
 * Coercion helpers for environment variables. Each turns the raw text into a typed value or fails with one issue
 * whose message completes "expected …" (`expected a duration between 1s and 60s (like "5s")`); loadConfig adds
 * the variable name and what was given. Unset variables arrive as undefined and fail the same way, so a
 * `.default()` or `.optional()` around a helper decides whether the variable is required.
 */

/** What a helper records about itself so that error lines and the configuration reference can describe it. */
export interface EnvValueInfo {
  /** Completes "expected …". */
  expected: string;
  /** Writes a parsed value the way an operator would type it (5000 -> "5s"), for the documented default. */
  format: (value: unknown) => string;
}

// Kept off the global registry so that `.describe()` text and this stay separate; zod clones inherit entries.
export const envValueInfo = z.registry<EnvValueInfo>();

const INVALID: unique symbol = Symbol("invalid");

function envValue<T>(expected: string, parse: (text: string) => T | typeof INVALID, format: (value: T) => string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      const value = raw === undefined ? INVALID : parse(raw.trim());
      if (value === INVALID) {
        ctx.addIssue({ code: "custom", message: `expected ${expected}`, input: raw });
        return z.NEVER;
      }
      return value;
    });
  envValueInfo.add(schema, { expected, format: format as (value: unknown) => string });
  return schema;
}

export interface EnvStringOptions {
  /** A pattern the whole value must match. */
  pattern?: RegExp;
  example?: string;
}

/** A non-empty string (empty variables count as unset), optionally matching a pattern. */
export function envString(options: EnvStringOptions = {}) {
  const { pattern, example } = options;
  const like = example === undefined ? "" : ` (like "${example}")`;
  const expected = pattern === undefined ? `a non-empty value${like}` : `a value matching ${String(pattern)}${like}`;
  return envValue(expected, (text) => (text !== "" && (pattern?.test(text) ?? true) ? text : INVALID), String);
}

export interface EnvListOptions {
  /** Fewest items allowed; 1 unless said otherwise, since a list of only commas is a typo, not a choice. */
  min?: number;
  max?: number;
  /** Each item must match this. */
  pattern?: RegExp;
  example?: string;
}

/** A comma-separated list: items trimmed, empty items dropped ("a, b," -> ["a", "b"]). */
export function envList(options: EnvListOptions = {}) {
  const { min = 1, max, pattern, example = "a,b" } = options;
  let count = "";
  if (max !== undefined) count = min === max ? ` of exactly ${min} items` : ` of ${min} to ${max} items`;
  else if (min > 1) count = ` of at least ${min} items`;
  const expected = `a comma-separated list${count} (like "${example}")`;
  return envValue(
    expected,
    (text) => {
      const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
      if (items.length < min || (max !== undefined && items.length > max)) return INVALID;
      if (pattern !== undefined && !items.every((item) => pattern.test(item))) return INVALID;
      return items;
    },
    (items) => items.join(","),
  );
}

export interface EnvIntOptions {
  min?: number;
  max?: number;
}

function integerBounds(noun: string, min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `${noun} between ${min} and ${max}`;
  if (min !== undefined) return `${noun} >= ${min}`;
  if (max !== undefined) return `${noun} <= ${max}`;
  return noun;
}

function parseInteger(text: string, min: number | undefined, max: number | undefined): number | typeof INVALID {
  if (!/^[+-]?\d+$/.test(text)) return INVALID;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) return INVALID;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) return INVALID;
  return value;
}

/** A whole number, optionally bounded (inclusive). */
export function envInt(options: EnvIntOptions = {}) {
  const { min, max } = options;
  return envValue(integerBounds("an integer", min, max), (text) => parseInteger(text, min, max), String);
}

/** A TCP port; 0 is allowed and means "any free port" (tests, several services in one process). */
export function envPort() {
  return envValue("a port number between 0 and 65535", (text) => parseInteger(text, 0, 65_535), String);
}

const TRUE_WORDS = new Set(["true", "1", "yes"]);
const FALSE_WORDS = new Set(["false", "0", "no"]);

/** true/false, 1/0 or yes/no, in any case. */
export function envBool() {
  return envValue(
    "one of true, false, 1, 0, yes, no",
    (text) => {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return INVALID;
    },
    String,
  );
}

export interface EnvUrlOptions {
  /** Allowed schemes without the colon; http and https unless said otherwise. */
  protocols?: readonly string[];
  example?: string;
}

/** An absolute URL with one of the allowed schemes; the value stays a string (as given, trimmed). */
export function envUrl(options: EnvUrlOptions = {}) {
  const { protocols = ["http", "https"] } = options;
  const first = protocols[0] ?? "http";
  const example = options.example ?? (first === "http" || first === "https" ? `${first}://localhost:4318` : `${first}://localhost`);
  const schemes = protocols.length === 1 ? first : `${protocols.slice(0, -1).join(", ")} or ${protocols.at(-1)}`;
  return envValue(
    `a URL with scheme ${schemes} (like "${example}")`,
    (text) => {
      const url = URL.parse(text);
      return url !== null && protocols.includes(url.protocol.slice(0, -1)) ? text : INVALID;
    },
    String,
  );
}

/** One of a fixed set of words, matched without regard to case and returned as written in `values`. */
export function envEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const byLowerCase = new Map(values.map((value) => [value.toLowerCase(), value]));
  return envValue<T[number]>(
    `one of ${values.join(", ")}`,
    (text) => byLowerCase.get(text.toLowerCase()) ?? INVALID,
    String,
  );
}

export interface EnvDurationOptions {
  /** Bounds as milliseconds or as durations ("1s"). */
  min?: number | string;
  max?: number | string;
  /** Shown in the error message; a round value inside the bounds unless given. */
  example?: string;
}

/** A duration in milliseconds, written "250ms", "5s", "1m", "1h" or as a plain number of milliseconds. */
export function envDurationMs(options: EnvDurationOptions = {}) {
  const min = options.min === undefined ? undefined : toMs(options.min);
  const max = options.max === undefined ? undefined : toMs(options.max);
  const inRange = (ms: number) => (min === undefined || ms >= min) && (max === undefined || ms <= max);
  const example = options.example ?? DURATION_EXAMPLES.find((text) => inRange(toMs(text))) ?? formatDuration(min ?? 0);
  // Bounds are shown as the schema wrote them ("60s" stays "60s").
  const minText = typeof options.min === "string" ? options.min.trim() : formatDuration(min ?? 0);
  const maxText = typeof options.max === "string" ? options.max.trim() : formatDuration(max ?? 0);
  let bounds = "";
  if (min !== undefined && max !== undefined) bounds = ` between ${minText} and ${maxText}`;
  else if (min !== undefined) bounds = ` of at least ${minText}`;
  else if (max !== undefined) bounds = ` of at most ${maxText}`;
  return envValue(
    `a duration${bounds} (like "${example}")`,
    (text) => {
      const ms = parseDuration(text);
      return ms !== undefined && inRange(ms) ? ms : INVALID;
    },
    formatDuration,
  );
}

const DURATION_EXAMPLES = ["5s", "1s", "30s", "1m", "250ms", "10m", "1h", "100ms", "10ms", "1ms"];

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "250ms" -> 250, "1.5s" -> 1500, "1m" -> 60000, "42" -> 42; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unit = UNIT_MS[(match[2] ?? "ms").toLowerCase()] ?? 1;
  return Math.round(amount * unit);
}

/** The largest whole unit: 60000 -> "1m", 1500 -> "1500ms", 0 -> "0ms". */
export function formatDuration(ms: number): string {
  if (ms !== 0) {
    for (const unit of ["h", "m", "s"] as const) {
      const size = UNIT_MS[unit] ?? 1;
      if (ms % size === 0) return `${ms / size}${unit}`;
    }
  }
  return `${ms}ms`;
}

function toMs(value: number | string): number {
  if (typeof value === "number") return value;
  const ms = parseDuration(value);
  if (ms === undefined) throw new RangeError(`envDurationMs: "${value}" is not a duration`);
  return ms;
}
