import { readFileSync } from "node:fs";
import { ConfigError } from "@meshloop/errors";
import { z } from "zod";
import { envValueInfo } from "./env-values.ts";

/**
 * Configuration is read once at start-up from a zod object schema whose keys are the environment variable names.
 * Values come from the environment and, for anything the environment does not set, from a JSON file named by
 * MESHLOOP_CONFIG_FILE whose keys are the same names. Empty variables count as unset (`FOO=` in a compose file
 * means "use the default", not "use the empty string").
 */

export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** process.env unless given. */
  env?: ConfigEnv;
  /**
   * A service-scoped prefix for running several services in one process: with "MESHLOOP_AGGREGATOR_", the
   * variable MESHLOOP_HTTP_PORT is first looked up as MESHLOOP_AGGREGATOR_HTTP_PORT (in the environment, then the
   * file) and only then under its own name. The more specific name wins whichever source holds it.
   */
  prefix?: string;
  /** A JSON config file; the MESHLOOP_CONFIG_FILE variable unless given. */
  file?: string;
}

const CONFIG_FILE_VARIABLE = "MESHLOOP_CONFIG_FILE";
const SECRET_NAME = /TOKEN|PASSWORD|SECRET|KEY/i;
// Long values are cut in error lines so that each problem stays one readable line.
const MAX_SHOWN_CHARS = 80;

/** Whether a variable holds a secret, going by its name; such values are never echoed or logged. */
export function isSecretVariable(name: string): boolean {
  return SECRET_NAME.test(name);
}

interface FoundValue {
  /** The name the value was found under (the scoped one when a prefix matched). */
  name: string;
  value: string;
  fromFile: boolean;
}

/**
 * Parses and validates the configuration; throws ConfigError with one line per problem, each naming the variable,
 * what is allowed and what was given (secrets excepted).
 */
export function loadConfig<S extends z.ZodObject>(schema: S, options: LoadConfigOptions = {}): z.output<S> {
  const env = options.env ?? process.env;
  const filePath = options.file ?? nonEmpty(env[CONFIG_FILE_VARIABLE]);
  const fileValues = filePath === undefined ? {} : readConfigFile(filePath);
  const problems: string[] = [];
  const input: Record<string, string | undefined> = {};
  const found = new Map<string, FoundValue>();
  for (const key of Object.keys(schema.shape)) {
    const names = options.prefix === undefined ? [key] : [scopedName(key, options.prefix), key];
    for (const name of names) {
      const fromEnv = nonEmpty(env[name]);
      const fromFile = fromEnv === undefined ? fileValue(fileValues, name, filePath, problems) : undefined;
      const value = fromEnv ?? fromFile;
      if (value !== undefined) {
        found.set(key, { name, value, fromFile: fromEnv === undefined });
        input[key] = value;
        break;
      }
    }
  }
  const result = schema.safeParse(input);
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) problems.push(...result.error.issues.map((issue) => describeIssue(issue, found, filePath)));
  const lines = [...new Set(problems)];
  throw new ConfigError(lines.join("\n"), { context: { problems: lines.length } });
}

function scopedName(key: string, prefix: string): string {
  return prefix + (key.startsWith("MESHLOOP_") ? key.slice("MESHLOOP_".length) : key);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`${CONFIG_FILE_VARIABLE}: cannot read "${path}" (${code})`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${CONFIG_FILE_VARIABLE}: "${path}" is not valid JSON (${reason})`, { cause: error });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`${CONFIG_FILE_VARIABLE}: "${path}" must hold a JSON object whose keys are variable names`);
  }
  return parsed as Record<string, unknown>;
}

// File values are turned into the text the same variable would hold in the environment, so that one set of
// helpers parses both: numbers and booleans as written, lists joined with commas.
function fileValue(values: Record<string, unknown>, name: string, path: string | undefined, problems: string[]) {
  if (!Object.hasOwn(values, name)) return undefined;
  const value = values[name];
  if (value === null) return undefined;
  if (typeof value === "string") return nonEmpty(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((item) => ["string", "number", "boolean"].includes(typeof item))) {
    return nonEmpty(value.map(String).join(","));
  }
  problems.push(`${name}: expected a string, number, boolean or list in ${path}, got ${Array.isArray(value) ? "a nested list" : "an object"}`);
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue, found: Map<string, FoundValue>, filePath: string | undefined): string {
  const key = issue.path[0];
  if (typeof key !== "string") return issue.message;
  const value = found.get(key);
  const name = value?.name ?? key;
  const expected = issue.message.startsWith("expected ") ? issue.message : undefined;
  if (value === undefined) return `${name}: ${expected ?? "expected a value"}, got nothing (not set)`;
  let given: string;
  if (isSecretVariable(name)) given = "a value that is not shown (secret)";
  else if (value.value.length > MAX_SHOWN_CHARS) given = `${JSON.stringify(value.value.slice(0, MAX_SHOWN_CHARS))}…`;
  else given = JSON.stringify(value.value);
  const origin = value.fromFile ? ` (from ${filePath})` : "";
  return `${name}: ${expected ?? issue.message}, got ${given}${origin}`;
}

export interface ConfigRow {
  variable: string;
  /** The default as an operator would write it; undefined when there is none. */
  default: string | undefined;
  /** Whether start-up fails when the variable is unset. */
  required: boolean;
  description: string;
}

/**
 * One row per variable, in schema order, for the configuration reference in the docs. A default computed at
 * start-up (a function) can be documented with `.meta({ docDefault: "<hostname>-<pid>" })`.
 */
export function describeConfig(schema: z.ZodObject): ConfigRow[] {
  return Object.entries(schema.shape).map(([variable, field]) => {
    const node = field as z.ZodType;
    return {
      variable,
      default: describeDefault(node),
      required: !node.safeParse(undefined).success,
      description: findMeta(node, (meta) => meta.description) ?? "",
    };
  });
}

// Walks through the wrappers (.default, .optional, .describe clones, ...) down to the helper's own schema.
function unwrap(node: z.ZodType): z.ZodType[] {
  const chain: z.ZodType[] = [];
  let current: z.ZodType | undefined = node;
  while (current !== undefined && chain.length < 20) {
    chain.push(current);
    const def = current._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    current = def.innerType ?? (current.def.type === "pipe" ? def.in : undefined);
  }
  return chain;
}

function findMeta<T>(node: z.ZodType, pick: (meta: z.core.GlobalMeta) => T | undefined): T | undefined {
  for (const layer of unwrap(node)) {
    const meta = z.globalRegistry.get(layer);
    const value = meta === undefined ? undefined : pick(meta);
    if (value !== undefined) return value;
  }
  return undefined;
}

function describeDefault(node: z.ZodType): string | undefined {
  const documented = findMeta(node, (meta) => (typeof meta.docDefault === "string" ? meta.docDefault : undefined));
  if (documented !== undefined) return documented;
  const chain = unwrap(node);
  const withDefault = chain.find((layer) => layer instanceof z.ZodDefault || layer instanceof z.ZodPrefault);
  if (withDefault === undefined) return undefined;
  const value: unknown = withDefault.def.defaultValue;
  // A prefault holds input text; a default holds a parsed value, which the helper writes back (5000 -> "5s").
  if (withDefault instanceof z.ZodDefault) {
    const info = chain.map((layer) => envValueInfo.get(layer)).find((found) => found !== undefined);
    if (info !== undefined) return info.format(value);
  }
  return formatPlain(value);
}

function formatPlain(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(String).join(",");
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** A copy of a loaded configuration safe to log: values of secret variables replaced. */
export function redactConfig<T extends object>(config: T): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([name, value]) => [name, isSecretVariable(name) && value !== undefined ? "[redacted]" : value]),
  );
}
