import { ValidationError } from "@meshloop/errors";
import type { ErrorContext } from "@meshloop/errors";
import type { z } from "zod";

// One line per failure, at most this many issues: a log line, not a report.
const MAX_ISSUES = 5;

/** Renders zod issues as `path: message; path: message`, the path in JS notation (`resources[0].status`). */
export function formatIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, MAX_ISSUES).map((i) => `${formatPath(i.path)}: ${i.message}`);
  const more = error.issues.length - shown.length;
  return more > 0 ? `${shown.join("; ")}; and ${more} more` : shown.join("; ");
}

/**
 * Parses `value` with `schema` or throws a ValidationError whose message starts with `what` (e.g. "decision data"),
 * so that a rejected message names both the contract and the offending field.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  context?: ErrorContext,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(`invalid ${what}: ${formatIssues(result.error)}`, { cause: result.error, context });
}

/** Adds a custom issue in a cross-field check (superRefine). */
export function issue(ctx: z.RefinementCtx, message: string, path?: PropertyKey[]): void {
  ctx.addIssue({ code: "custom", message, ...(path === undefined ? {} : { path }) });
}

/** Message bytes (a Buffer or any Uint8Array view) as UTF-8 text. */
export function utf8Text(value: string | Uint8Array): string {
  if (typeof value === "string") return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
}

/** The types a reader accepts: all it knows, or those the caller expects (one or several). */
export function acceptedTypes(
  expected: string | readonly string[] | undefined,
  known: readonly string[],
): readonly string[] {
  return expected === undefined ? known : typeof expected === "string" ? [expected] : expected;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
