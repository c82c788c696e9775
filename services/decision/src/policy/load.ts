import { ValidationError } from "@meshloop/errors";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document } from "yaml";
import type { z } from "zod";
import { policyFileSchema } from "./schema.ts";
import type { Policy } from "./schema.ts";

/**
 * Loads one YAML policy file. Every error names the file, the place inside it (path and line) and what is allowed
 * there, e.g. `policies.yaml: policies[0].canary.steps[1] (line 9): Too big: expected number to be <=100`.
 * Nothing is half-loaded: a file with any error throws, so a hot reload can keep the last good policies.
 */
export function loadPolicies(text: string, fileName: string): Policy[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const at = first.linePos?.[0] ?? lineCounter.linePos(first.pos[0]);
    const where = ` (line ${at.line}, column ${at.col})`;
    throw new ValidationError(`${fileName}${where}: not valid YAML: ${first.message.split("\n")[0]}`, {
      cause: first,
      context: { file: fileName },
    });
  }
  const value: unknown = doc.toJS();
  const result = policyFileSchema.safeParse(value ?? {});
  if (result.success) return result.data.policies;
  throw new ValidationError(`${fileName}: ${describeIssues(result.error, doc, lineCounter)}`, {
    cause: result.error,
    context: { file: fileName },
  });
}

// A log line, not a report: the first few issues.
const MAX_ISSUES = 5;

function describeIssues(error: z.ZodError, doc: Document, lines: LineCounter): string {
  const shown = error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const line = lineOf(doc, lines, issue.path);
    return `${formatPath(issue.path)}${line === null ? "" : ` (line ${line})`}: ${issue.message}`;
  });
  const more = error.issues.length - shown.length;
  return more > 0 ? `${shown.join("; ")}; and ${more} more` : shown.join("; ");
}

/** The line of the deepest node on `path` that exists in the file (a key's own line for map entries). */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | null {
  let node: unknown = doc.contents;
  let offset: number | null = isScalar(node) || isMap(node) || isSeq(node) ? (node.range?.[0] ?? null) : null;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === segment);
      if (pair === undefined) break;
      offset = isScalar(pair.key) ? (pair.key.range?.[0] ?? offset) : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      offset = isScalar(item) || isMap(item) || isSeq(item) ? (item.range?.[0] ?? offset) : offset;
      node = item;
    } else break;
  }
  return offset === null ? null : lines.linePos(offset).line;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
