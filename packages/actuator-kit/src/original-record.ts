import { createHash } from "node:crypto";
import type { ObjectMeta } from "./kube.ts";

/**
 * Reversibility of what meshloop merges into configuration it does not own (a user's VirtualService route, HTTPRoute
 * rule, DestinationRule or Consul config entry). Before its first change to a field, meshloop records the value it
 * found there; on release it puts that value back. The record travels inside the object itself (a Kubernetes
 * annotation, a Consul entry's Meta), so it is written in the same checked write as the change it describes: there is
 * never a change without its record, nor a record left over from a write that failed.
 *
 * A record holds, per field meshloop changed (the field's name is the mesh's own path, e.g.
 * `spec.http[catch-all].route`): the original value (absent when the field was absent) and a digest of the value
 * meshloop last wrote there. The original is never overwritten: the first value found is the one a release restores.
 * The digest tells on release whether someone changed the field since meshloop wrote it; such a field is left as they
 * made it (restoring would undo their change), and the release says so.
 */
export const ORIGINAL_ANNOTATION = "meshloop.io/original";

const VERSION = 1;

/** Fields by name, as found or as meshloop sets them; a field whose value is `undefined` is absent. */
export type FieldValues = Readonly<Record<string, unknown>>;

interface FieldRecord {
  /** Absent when the field was absent before meshloop set it. */
  original?: unknown;
  /** Digest of the value meshloop last wrote. */
  written: string;
}

type Parsed = { ok: true; fields: Record<string, FieldRecord> } | { ok: false; reason: string };

/** The record after a merge: its text to store (null: nothing recorded), or why it cannot be kept. */
export type RecordUpdate = { ok: true; text: string | null } | { ok: false; reason: string };

/** What a release does with a record: the fields to put back, the fields to leave, or why it can do neither. */
export interface Restoration {
  /** Each field with its original value (`undefined`: remove the field), in field-name order. */
  restore: { field: string; value: unknown }[];
  /** Fields changed by someone else since meshloop wrote them, or no longer found: left as they are. */
  kept: string[];
  /** The record could not be read; nothing is restored. */
  problem: string | null;
}

/**
 * The record after meshloop sets `after` (the fields this write manages) over `before` (the same fields as found).
 * A field seen for the first time is recorded only if the write changes it; a field recorded before keeps its
 * original, and only the digest of what meshloop wrote moves. Fields not in `after` keep their entries untouched.
 */
export function recordMerge(text: string | undefined, before: FieldValues, after: FieldValues): RecordUpdate {
  const parsed = parseRecord(text);
  if (!parsed.ok) return { ok: false, reason: `${parsed.reason}; meshloop cannot tell what to restore on release, so it does not change the object (remove the record to let meshloop take the current values as the original)` };
  const fields = { ...parsed.fields };
  for (const field of Object.keys(after).sort()) {
    const value = after[field];
    const known = fields[field];
    if (known !== undefined) fields[field] = { ...known, written: digestOf(value) };
    else if (!sameValue(before[field], value)) {
      const original = before[field];
      fields[field] = { ...(original === undefined ? {} : { original: structuredClone(original) }), written: digestOf(value) };
    }
  }
  return { ok: true, text: Object.keys(fields).length === 0 ? null : canonicalJson({ version: VERSION, fields }) };
}

/**
 * What to restore from a record, given the recorded fields' current values (a field missing from `current` could
 * not be located, e.g. the user removed the route that held it). A field already back at its original needs nothing.
 */
export function planRestore(text: string | undefined, current: FieldValues): Restoration {
  const parsed = parseRecord(text);
  if (!parsed.ok) return { restore: [], kept: [], problem: parsed.reason };
  const out: Restoration = { restore: [], kept: [], problem: null };
  for (const field of Object.keys(parsed.fields).sort()) {
    const record = parsed.fields[field]!;
    if (!Object.hasOwn(current, field)) {
      out.kept.push(field);
      continue;
    }
    const value = current[field];
    if (sameValue(value, record.original)) continue;
    if (digestOf(value) === record.written) out.restore.push({ field, value: structuredClone(record.original) });
    else out.kept.push(field);
  }
  return out;
}

/** How a mesh reads and writes one recorded field of an object it is restoring; `set(undefined)` removes the field. */
export interface FieldAccess {
  get(): unknown;
  set(value: unknown): void;
}

/**
 * Plans a release over the fields the mesh can locate (`fields`; a recorded field not among them is kept) and puts
 * the restorable ones back through their setters, in field-name order. `skip` vetoes a restore the mesh knows to be
 * unsafe now (e.g. a subset still routed to); such a field is left as it is and reported by the caller.
 */
export function restoreFields(text: string | undefined, fields: ReadonlyMap<string, FieldAccess>, skip: (field: string) => boolean = () => false): Restoration {
  const current: Record<string, unknown> = {};
  for (const [field, access] of fields) current[field] = access.get();
  const plan = planRestore(text, current);
  const restore = plan.restore.filter((r) => !skip(r.field));
  for (const { field, value } of restore) fields.get(field)!.set(value);
  return { ...plan, restore };
}

/** The warnings a release owes the operator: what it could not restore, and why. `what` names the object. */
export function restorationNotes(what: string, restoration: Restoration): string[] {
  if (restoration.problem !== null) return [`${what}: ${restoration.problem}; nothing restored, and the record is removed`];
  if (restoration.kept.length === 0) return [];
  return [`${what}: ${restoration.kept.join(", ")} changed since meshloop wrote ${restoration.kept.length === 1 ? "it" : "them"}; kept as changed rather than restored to the original, and the record is removed`];
}

/** The fields a record names, sorted; none for an unreadable record. */
export function recordedFields(text: string | undefined): string[] {
  const parsed = parseRecord(text);
  return parsed.ok ? Object.keys(parsed.fields).sort() : [];
}

/** Whether there is a record at all (an empty or absent text is none). */
export function hasRecord(text: string | undefined): boolean {
  return text !== undefined && text !== "";
}

/** The record's text in a Kubernetes object's annotations. */
export function originalAnnotation(metadata: ObjectMeta | undefined): string | undefined {
  return metadata?.annotations?.[ORIGINAL_ANNOTATION];
}

/** Sets (or, for null, removes) the record's annotation; an annotation map left empty goes too. */
export function setOriginalAnnotation(metadata: ObjectMeta, text: string | null): void {
  const annotations = { ...metadata.annotations };
  if (text === null) delete annotations[ORIGINAL_ANNOTATION];
  else annotations[ORIGINAL_ANNOTATION] = text;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
}

/** JSON with every object's keys sorted, so equal values give equal text (and equal digests) however they were built. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : sortKeys(item)));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) if (record[key] !== undefined) out[key] = sortKeys(record[key]);
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

// 96 bits: enough to notice a change, short enough for Consul's 512-character Meta values.
function digestOf(value: unknown): string {
  if (value === undefined) return "absent";
  return createHash("sha256").update(canonicalJson(value)).digest("base64url").slice(0, 16);
}

function parseRecord(text: string | undefined): Parsed {
  if (!hasRecord(text)) return { ok: true, fields: {} };
  let data: unknown;
  try {
    data = JSON.parse(text!);
  } catch {
    return { ok: false, reason: "meshloop's record of the original is not JSON" };
  }
  const record = data as { version?: unknown; fields?: unknown };
  if (typeof data !== "object" || data === null || record.version !== VERSION || typeof record.fields !== "object" || record.fields === null) {
    return { ok: false, reason: `meshloop's record of the original is not a version ${VERSION} record` };
  }
  const fields: Record<string, FieldRecord> = {};
  for (const [field, entry] of Object.entries(record.fields as Record<string, unknown>)) {
    const written = (entry as { written?: unknown } | null)?.written;
    if (typeof written !== "string") return { ok: false, reason: `meshloop's record of the original has no digest for ${field}` };
    fields[field] = entry as FieldRecord;
  }
  return { ok: true, fields };
}
