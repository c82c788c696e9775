/**
 * Field ownership as server-side apply tracks it. A path is a list of map keys; lists are atomic (the CRDs meshloop
 * writes declare no list-type markers, so `http[]`, `subsets[]`, `rules[]` are owned and replaced whole), maps are
 * granular down to their leaves, so two managers can each own keys of the same `annotations` map.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type Path = readonly string[];

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A JSON value as text for names and messages: strings as they are, absent as "", the rest as JSON. */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  return value === undefined || value === null ? "" : JSON.stringify(value);
}

// What ownership is tracked for: not identity (apiVersion, kind, name, namespace), not what the server sets, not status.
const TRACKED_METADATA = ["labels", "annotations", "ownerReferences", "finalizers"];

/** The part of an object whose fields have owners. */
export function tracked(object: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === "apiVersion" || key === "kind" || key === "status") continue;
    if (key === "metadata" && isObject(value)) {
      const metadata: JsonObject = {};
      for (const k of TRACKED_METADATA) if (value[k] !== undefined) metadata[k] = value[k];
      if (Object.keys(metadata).length > 0) out.metadata = metadata;
      continue;
    }
    out[key] = value;
  }
  return out;
}

/** The leaves of an object: scalars, lists and empty maps. */
export function leafPaths(value: JsonObject, prefix: Path = []): Path[] {
  const out: Path[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, key];
    if (isObject(child) && Object.keys(child).length > 0) out.push(...leafPaths(child, path));
    else out.push(path);
  }
  return out;
}

export function pathKey(path: Path): string {
  return JSON.stringify(path);
}

export function parsePath(key: string): Path {
  return JSON.parse(key) as string[];
}

/** Whether one path is the other or lies under it: owning either means touching the other. */
export function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function getAt(value: Json | undefined, path: Path): Json | undefined {
  let current = value;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** Removes a field and the maps it leaves empty (except `metadata`). */
export function deleteAt(object: JsonObject, path: Path): void {
  const parents: JsonObject[] = [object];
  let current: JsonObject = object;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (!isObject(next)) return;
    parents.push(next);
    current = next;
  }
  delete current[path[path.length - 1]!];
  for (let i = path.length - 1; i > 0; i--) {
    const parent = parents[i - 1]!;
    const key = path[i - 1]!;
    const child = parents[i]!;
    if (Object.keys(child).length > 0 || (i === 1 && key === "metadata")) break;
    delete parent[key];
  }
}

/** Maps merge key by key; lists and scalars replace. */
export function deepMerge(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const existing = out[key];
    out[key] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : structuredClone(value);
  }
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The leaves whose values differ between two versions of an object. */
export function changedPaths(before: JsonObject, after: JsonObject): Path[] {
  const a = tracked(before);
  const b = tracked(after);
  const all = new Map<string, Path>();
  for (const p of [...leafPaths(a), ...leafPaths(b)]) all.set(pathKey(p), p);
  return [...all.values()].filter((p) => !deepEqual(getAt(a, p), getAt(b, p)));
}

/** `{"f:spec": {"f:http": {}}}`: managedFields' FieldsV1 form of a set of paths. */
export function toFieldsV1(paths: Iterable<Path>): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let node = root;
    for (const key of path) {
      const k = `f:${key}`;
      const next = node[k];
      node = isObject(next) ? next : (node[k] = {});
    }
  }
  return root;
}

/** `.spec.http`, as conflict messages name a field. */
export function dotted(path: Path): string {
  return path.map((k) => `.${k}`).join("");
}
