import { randomUUID } from "node:crypto";
import { changedPaths, deepEqual, deepMerge, deleteAt, dotted, getAt, isObject, leafPaths, overlaps, pathKey, toFieldsV1, text, tracked } from "./fields.ts";
import type { Json, JsonObject, Path } from "./fields.ts";
import { apiVersionOf, qualifiedKind, qualifiedResource } from "./resources.ts";
import type { ResourceType } from "./resources.ts";
import { parseLabelSelector } from "./selectors.ts";
import { badRequest, invalid, modified, notFound, StatusError } from "./status.ts";

/** One managedFields entry: who set which fields, by apply or by update, through the object or a subresource. */
interface FieldEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  subresource?: string;
  time: string;
  paths: Map<string, Path>;
}

interface Stored {
  type: ResourceType;
  object: JsonObject;
  entries: FieldEntry[];
}

export type Operation = "create" | "update" | "apply" | "delete" | "scale";

/** Admission: returns the reason an object is rejected (a 422 Invalid, for dry runs too), or null. */
export type Validator = (object: JsonObject, context: { type: ResourceType; operation: Operation; dryRun: boolean }) => string | null;

export interface WriteOptions {
  manager: string;
  dryRun: boolean;
  version: string;
}

/**
 * The objects and their bookkeeping: resourceVersion (one counter for the whole store, bumped by every real change
 * and never by a no-op or a dry run), generation (bumped when anything but metadata and status changes), uid, and
 * managedFields per manager, operation and subresource.
 */
export class ObjectStore {
  readonly #objects = new Map<string, Stored>();
  readonly #validators: Validator[] = [];
  readonly #clock: () => Date;
  #resourceVersion = 1000;

  constructor(clock: () => Date = () => new Date()) {
    this.#clock = clock;
  }

  addValidator(validator: Validator): () => void {
    this.#validators.push(validator);
    return () => {
      const i = this.#validators.indexOf(validator);
      if (i !== -1) this.#validators.splice(i, 1);
    };
  }

  get(type: ResourceType, version: string, namespace: string, name: string): JsonObject {
    return this.#view(this.#require(type, namespace, name), version);
  }

  find(type: ResourceType, namespace: string, name: string): JsonObject | null {
    const stored = this.#objects.get(key(type, namespace, name));
    return stored === undefined ? null : this.#view(stored, stored.object.apiVersion as string);
  }

  list(type: ResourceType, version: string, namespace: string | null, labelSelector: string | null): JsonObject {
    const matches = labelSelector === null ? () => true : parseLabelSelector(labelSelector);
    const items = [...this.#objects.values()]
      .filter((s) => s.type === type && (namespace === null || meta(s.object).namespace === namespace))
      .filter((s) => matches(labelsOf(s.object)))
      .sort((a, b) => (key(type, ns(a.object), nm(a.object)) < key(type, ns(b.object), nm(b.object)) ? -1 : 1))
      .map((s) => {
        const view = this.#view(s, version);
        // Lists of built-in types leave out each item's apiVersion and kind; clients must not rely on them.
        if (type.builtin) {
          delete view.apiVersion;
          delete view.kind;
        }
        return view;
      });
    return { apiVersion: apiVersionOf(type.group, version), kind: `${type.kind}List`, metadata: { resourceVersion: String(this.#resourceVersion) }, items };
  }

  create(type: ResourceType, namespace: string, body: unknown, options: WriteOptions): JsonObject {
    const object = checkIdentity(type, options.version, namespace, null, body);
    const name = meta(object).name;
    if (typeof name !== "string" || name === "") throw invalid(qualifiedKind(type), "", "metadata.name: Required value: name or generateName is required", type.kind, type.group);
    if (this.#objects.has(key(type, namespace, name))) {
      throw new StatusError(409, "AlreadyExists", `${qualifiedResource(type)} "${name}" already exists`, { name, group: type.group, kind: type.kind });
    }
    const created = this.#withSystemMetadata(object, null, namespace);
    this.#validate(created, type, "create", options.dryRun);
    const entry = this.#entry(options, "Update", undefined);
    for (const p of leafPaths(tracked(created))) entry.paths.set(pathKey(p), p);
    const stored: Stored = { type, object: created, entries: entry.paths.size > 0 ? [entry] : [] };
    return this.#commit(stored, null, options);
  }

  update(type: ResourceType, namespace: string, name: string, body: unknown, options: WriteOptions): JsonObject {
    const stored = this.#require(type, namespace, name);
    const object = checkIdentity(type, options.version, namespace, name, body);
    const rv = meta(object).resourceVersion;
    if (typeof rv !== "string" || rv === "") {
      throw invalid(qualifiedKind(type), name, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update", type.kind, type.group);
    }
    if (rv !== meta(stored.object).resourceVersion) throw modified(qualifiedResource(type), name, type.group, type.kind);
    // managedFields in the body are ignored (clients send back what they read); status has its own subresource.
    const next = this.#withSystemMetadata({ ...object, ...(stored.object.status === undefined ? {} : { status: stored.object.status }) }, stored.object, namespace);
    if (next.status === undefined) delete next.status;
    this.#validate(next, type, "update", options.dryRun);
    const entries = recordUpdate(stored.entries, this.#entry(options, "Update", undefined), stored.object, next);
    return this.#commit({ type, object: next, entries }, stored, options);
  }

  apply(type: ResourceType, namespace: string, name: string, body: unknown, options: WriteOptions & { force: boolean }): JsonObject {
    const applied = checkIdentity(type, options.version, namespace, name, body);
    const stored = this.#objects.get(key(type, namespace, name)) ?? null;
    const rv = meta(applied).resourceVersion;
    if (rv !== undefined) {
      if (stored === null) throw notFound(qualifiedResource(type), name, type.group, type.kind);
      if (rv !== meta(stored.object).resourceVersion) throw modified(qualifiedResource(type), name, type.group, type.kind);
    }
    // An empty map applied (`annotations: {}`) owns none of its keys: its leaf is the map itself, and owning that
    // would read as owning every key under it. Applying it is how a manager releases all the keys it had there.
    const appliedTracked = tracked(applied);
    const appliedPaths = leafPaths(appliedTracked).filter((p) => !isEmptyMap(getAt(appliedTracked, p)));
    const current = stored?.object ?? {};
    const entries = (stored?.entries ?? []).map(cloneEntry);
    const mine = entries.find((e) => e.manager === options.manager && e.operation === "Apply" && e.subresource === undefined);
    const others = entries.filter((e) => e.manager !== options.manager);

    // Fields this manager applied before and omits now go, unless someone else also owns them.
    const base = structuredClone(current);
    for (const p of mine?.paths.values() ?? []) {
      if (appliedPaths.some((q) => overlaps(p, q))) continue;
      if (others.some((e) => [...e.paths.values()].some((o) => overlaps(o, p)))) continue;
      deleteAt(base, p);
    }
    const { resourceVersion: _rv, managedFields: _mf, ...appliedMeta } = meta(applied);
    const merged = deepMerge(base, { ...applied, metadata: appliedMeta });
    // ObjectMeta's maps are omitempty: an emptied one is not stored (a CRD's empty spec map would be).
    const mergedMeta = meta(merged);
    for (const field of ["labels", "annotations"]) if (isEmptyMap(mergedMeta[field])) delete mergedMeta[field];

    const conflicts: { entry: FieldEntry; path: Path }[] = [];
    for (const entry of others) {
      for (const p of entry.paths.values()) {
        if (appliedPaths.some((q) => overlaps(p, q)) && !deepEqual(getAt(current, p), getAt(merged, p))) conflicts.push({ entry, path: p });
      }
    }
    if (conflicts.length > 0 && !options.force) throw applyConflict(type, name, conflicts);
    for (const { entry, path } of conflicts) entry.paths.delete(pathKey(path));

    const entry = mine ?? this.#entry(options, "Apply", undefined);
    if (mine === undefined) entries.push(entry);
    entry.paths = new Map(appliedPaths.map((p) => [pathKey(p), p]));
    entry.apiVersion = apiVersionOf(type.group, options.version);
    const next = this.#withSystemMetadata(merged, stored?.object ?? null, namespace);
    this.#validate(next, type, stored === null ? "create" : "apply", options.dryRun);
    return this.#commit({ type, object: next, entries: entries.filter((e) => e.paths.size > 0) }, stored, options);
  }

  delete(type: ResourceType, namespace: string, name: string, options: { dryRun: boolean; resourceVersion?: string }): JsonObject {
    const stored = this.#require(type, namespace, name);
    if (options.resourceVersion !== undefined && options.resourceVersion !== meta(stored.object).resourceVersion) {
      throw modified(qualifiedResource(type), name, type.group, type.kind);
    }
    this.#validate(stored.object, type, "delete", options.dryRun);
    if (!options.dryRun) this.#objects.delete(key(type, namespace, name));
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: type.group, kind: type.plural, uid: meta(stored.object).uid ?? "" } };
  }

  getScale(type: ResourceType, namespace: string, name: string): JsonObject {
    if (type.scale !== true) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    return scaleOf(this.#require(type, namespace, name).object);
  }

  /** A merge patch of the scale subresource: only `spec.replicas` (and a resourceVersion precondition) count. */
  patchScale(type: ResourceType, namespace: string, name: string, body: unknown, options: WriteOptions): JsonObject {
    if (type.scale !== true) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const stored = this.#require(type, namespace, name);
    const replicas = isObject(body) && isObject(body.spec) ? body.spec.replicas : undefined;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid("Scale.autoscaling", name, `spec.replicas: Invalid value: ${JSON.stringify(replicas ?? null)}: must be an integer greater than or equal to 0`, "Scale", "autoscaling");
    }
    const rv = isObject(body) && isObject(body.metadata) ? body.metadata.resourceVersion : undefined;
    if (rv !== undefined && rv !== meta(stored.object).resourceVersion) throw modified(qualifiedResource(type), name, type.group, type.kind);
    const next = structuredClone(stored.object);
    next.spec = { ...(isObject(next.spec) ? next.spec : {}), replicas };
    this.#validate(next, type, "scale", options.dryRun);
    const entries = recordUpdate(stored.entries, this.#entry({ ...options, version: "v1" }, "Update", "scale", "autoscaling/v1"), stored.object, next);
    const result = this.#commit({ type, object: next, entries }, stored, options);
    return scaleOf(result);
  }

  #require(type: ResourceType, namespace: string, name: string): Stored {
    const stored = this.#objects.get(key(type, namespace, name));
    if (stored === undefined) throw notFound(qualifiedResource(type), name, type.group, type.kind);
    return stored;
  }

  #entry(options: WriteOptions, operation: "Apply" | "Update", subresource: string | undefined, apiVersion?: string): FieldEntry {
    return { manager: options.manager, operation, apiVersion: apiVersion ?? "", subresource, time: this.#clock().toISOString().replace(/\.\d+Z$/, "Z"), paths: new Map() };
  }

  #validate(object: JsonObject, type: ResourceType, operation: Operation, dryRun: boolean): void {
    for (const validator of this.#validators) {
      const problem = validator(object, { type, operation, dryRun });
      if (problem !== null) throw invalid(qualifiedKind(type), nm(object), problem, type.kind, type.group);
    }
  }

  /** Stores the next state, unless it is a dry run or changes nothing (then the resourceVersion stays too). */
  #commit(next: Stored, previous: Stored | null, options: WriteOptions): JsonObject {
    for (const e of next.entries) if (e.apiVersion === "") e.apiVersion = apiVersionOf(next.type.group, options.version);
    if (previous !== null && deepEqual(previous.object, next.object) && sameOwnership(previous.entries, next.entries)) {
      return this.#view(previous, options.version);
    }
    const object = structuredClone(next.object);
    const metadata = meta(object);
    if (previous !== null && !deepEqual(spec(previous.object), spec(object))) metadata.generation = (meta(previous.object).generation as number) + 1;
    if (!options.dryRun) {
      this.#resourceVersion += 1;
      metadata.resourceVersion = String(this.#resourceVersion);
      this.#objects.set(key(next.type, ns(object), nm(object)), { type: next.type, object, entries: next.entries });
    }
    return this.#view({ type: next.type, object, entries: next.entries }, options.version);
  }

  #withSystemMetadata(object: JsonObject, previous: JsonObject | null, namespace: string): JsonObject {
    const out = structuredClone(object);
    const { managedFields: _mf, ...rest } = meta(out);
    const before = previous === null ? null : meta(previous);
    out.metadata = {
      ...rest,
      namespace,
      uid: before?.uid ?? randomUUID(),
      resourceVersion: before?.resourceVersion ?? "0",
      generation: before?.generation ?? 1,
      creationTimestamp: before?.creationTimestamp ?? this.#clock().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    return out;
  }

  #view(stored: Stored, version: string): JsonObject {
    const object = structuredClone(stored.object);
    object.apiVersion = apiVersionOf(stored.type.group, version);
    const managedFields: Json[] = stored.entries.map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: "FieldsV1",
      fieldsV1: toFieldsV1(e.paths.values()),
      ...(e.subresource === undefined ? {} : { subresource: e.subresource }),
    }));
    object.metadata = { ...meta(object), managedFields };
    return object;
  }
}

/** After an update: the fields it changed belong to its manager alone; fields that are gone belong to no one. */
function recordUpdate(previous: readonly FieldEntry[], updater: FieldEntry, before: JsonObject, after: JsonObject): FieldEntry[] {
  const changed = changedPaths(before, after);
  const now = tracked(after);
  const entries = previous.map(cloneEntry);
  let mine = entries.find((e) => e.manager === updater.manager && e.operation === "Update" && e.subresource === updater.subresource);
  for (const e of entries) {
    for (const [k, p] of e.paths) {
      if (getAt(now, p) === undefined || (e !== mine && changed.some((c) => overlaps(c, p)))) e.paths.delete(k);
    }
  }
  if (mine === undefined && changed.length > 0) {
    mine = updater;
    entries.push(mine);
  }
  for (const c of changed) if (getAt(now, c) !== undefined) mine?.paths.set(pathKey(c), c);
  if (mine !== undefined && changed.length > 0) mine.time = updater.time;
  return entries.filter((e) => e.paths.size > 0);
}

function isEmptyMap(value: Json | undefined): boolean {
  return isObject(value) && Object.keys(value).length === 0;
}

function applyConflict(type: ResourceType, name: string, conflicts: { entry: FieldEntry; path: Path }[]): StatusError {
  const causes = conflicts.map(({ entry, path }) => ({
    type: "FieldManagerConflict",
    message: `conflict with "${entry.manager}"${entry.operation === "Update" ? ` using ${entry.apiVersion}` : ""}`,
    field: dotted(path),
  }));
  const lines = causes.map((c) => `${c.message}: ${c.field}`);
  const message = `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}: ${lines.join("\n")}`;
  return new StatusError(409, "Conflict", message, { name, group: type.group, kind: type.kind, causes });
}

function checkIdentity(type: ResourceType, version: string, namespace: string, name: string | null, body: unknown): JsonObject {
  if (!isObject(body)) throw badRequest("the body of the request is not a JSON object");
  const expected = apiVersionOf(type.group, version);
  if (body.apiVersion !== expected) throw badRequest(`the API version in the data (${text(body.apiVersion)}) does not match the expected API version (${expected})`);
  if (body.kind !== type.kind) throw badRequest(`the kind in the data (${text(body.kind)}) does not match the expected kind (${type.kind})`);
  const metadata = isObject(body.metadata) ? body.metadata : {};
  if (name !== null && metadata.name !== name) throw badRequest(`the name of the object (${text(metadata.name)}) does not match the name on the URL (${name})`);
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  return { ...structuredClone(body), metadata: structuredClone(metadata) };
}

function scaleOf(object: JsonObject): JsonObject {
  const metadata = meta(object);
  const s = isObject(object.spec) ? object.spec : {};
  const status = isObject(object.status) ? object.status : {};
  const selector = isObject(s.selector) && isObject(s.selector.matchLabels) ? Object.entries(s.selector.matchLabels).map(([k, v]) => `${k}=${text(v)}`).join(",") : "";
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name: metadata.name ?? "", namespace: metadata.namespace ?? "", uid: metadata.uid ?? "", resourceVersion: metadata.resourceVersion ?? "", creationTimestamp: metadata.creationTimestamp ?? "" },
    spec: { replicas: typeof s.replicas === "number" ? s.replicas : 1 },
    status: { replicas: typeof status.replicas === "number" ? status.replicas : 0, selector },
  };
}

function sameOwnership(a: readonly FieldEntry[], b: readonly FieldEntry[]): boolean {
  const shape = (entries: readonly FieldEntry[]) => entries.map((e) => [e.manager, e.operation, e.subresource ?? "", [...e.paths.keys()].sort()]);
  return deepEqual(shape(a), shape(b));
}

function cloneEntry(e: FieldEntry): FieldEntry {
  return { ...e, paths: new Map(e.paths) };
}

function key(type: ResourceType, namespace: string, name: string): string {
  return `${type.group}/${type.plural}/${namespace}/${name}`;
}

function meta(object: JsonObject): JsonObject {
  if (!isObject(object.metadata)) object.metadata = {};
  return object.metadata;
}

function labelsOf(object: JsonObject): Record<string, string> {
  const labels = meta(object).labels;
  return isObject(labels) ? (labels as Record<string, string>) : {};
}

function spec(object: JsonObject): JsonObject {
  const { metadata: _m, status: _s, ...rest } = object;
  return rest;
}

function ns(object: JsonObject): string {
  return text(meta(object).namespace);
}

function nm(object: JsonObject): string {
  return text(meta(object).name);
}
