import { MeshloopError, ValidationError } from "@meshloop/errors";
import { ConflictError, errorFromResponse, KubeApiError, NotFoundError } from "./errors.ts";
import type { KubeErrorContext } from "./errors.ts";
import { groupVersionPath, knownResource, resourcePath } from "./resources.ts";
import type { ResourceInfo, ResourceRef, TypeRef } from "./resources.ts";
import { createSend, tokenSource } from "./transport.ts";
import type { KubeClientOptions, Send } from "./transport.ts";

/** Any object as the API returns it; structurally the same as @meshloop/actuator-kit's KubeObject. */
export interface KubeObjectLike {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string; managedFields?: readonly unknown[] };
}

/** autoscaling/v1 Scale: a workload's replica count as its scale subresource shows it. */
export interface Scale {
  apiVersion: "autoscaling/v1";
  kind: "Scale";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

export interface WriteOptions {
  /** `dryRun=All`: the server validates and answers with the result, and stores nothing. */
  dryRun?: boolean;
}

export const APPLY_CONTENT_TYPE = "application/apply-patch+yaml";
const MERGE_PATCH = "application/merge-patch+json";

/**
 * The Kubernetes API calls meshloop makes. Reads answer null (get) or [] (list of a type the cluster does not serve)
 * rather than throwing for absence; writes throw KubeApiError subclasses carrying the API's Status reason and message.
 */
export class KubeClient {
  readonly fieldManager: string;
  readonly #options: KubeClientOptions;
  readonly #token: () => Promise<string | undefined>;
  readonly #discovered = new Map<string, ResourceInfo>();
  #send: Promise<Send> | null = null;

  constructor(options: KubeClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, "") };
    this.fieldManager = options.fieldManager ?? "meshloop";
    this.#token = tokenSource(options);
  }

  async get<T extends KubeObjectLike = KubeObjectLike>(ref: ResourceRef): Promise<T | null> {
    const info = await this.#resource(ref);
    try {
      return await this.#request<T>("GET", resourcePath(ref, info, ref.namespace, ref.name), ref);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /** Objects of a type in a namespace (all namespaces when undefined); items get the apiVersion and kind lists omit. */
  async list<T extends KubeObjectLike = KubeObjectLike>(type: TypeRef, namespace?: string, options: { labelSelector?: string } = {}): Promise<T[]> {
    let info: ResourceInfo;
    try {
      info = await this.#resource(type);
    } catch (error) {
      if (error instanceof NotFoundError) return [];
      throw error;
    }
    const items: T[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams();
      if (options.labelSelector !== undefined) query.set("labelSelector", options.labelSelector);
      if (token !== undefined) query.set("continue", token);
      const q = query.size > 0 ? `?${query.toString()}` : "";
      let page: { items?: T[]; metadata?: { continue?: string } };
      try {
        page = await this.#request("GET", `${resourcePath(type, info, namespace)}${q}`, { ...type, namespace });
      } catch (error) {
        if (error instanceof NotFoundError) return [];
        throw error;
      }
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: item.apiVersion ?? type.apiVersion, kind: item.kind ?? type.kind });
      token = page.metadata?.continue || undefined;
    } while (token !== undefined);
    return items;
  }

  /**
   * Server-side apply as meshloop's field manager, never forcing: a field another manager owns with another value
   * is a FieldManagerConflictError. The body is JSON, which is valid YAML for the apply content type.
   */
  async apply<T extends KubeObjectLike>(object: T, options: WriteOptions = {}): Promise<T> {
    const ref = refFor(object);
    const info = await this.#resource(ref);
    const query = new URLSearchParams({ fieldManager: this.fieldManager, force: "false" });
    if (options.dryRun === true) query.set("dryRun", "All");
    return this.#request<T>("PATCH", `${resourcePath(ref, info, ref.namespace, ref.name)}?${query.toString()}`, ref, withoutManagedFields(object), APPLY_CONTENT_TYPE);
  }

  /** A plain update carrying the object's resourceVersion as precondition: a ConflictError when it moved since the read. */
  async update<T extends KubeObjectLike>(object: T, options: WriteOptions = {}): Promise<T> {
    const ref = refFor(object);
    if (object.metadata?.resourceVersion === undefined || object.metadata.resourceVersion === "") {
      throw new ValidationError(`update of ${ref.kind} ${ref.namespace}/${ref.name} needs the resourceVersion it was read at`, { context: { kind: ref.kind, namespace: ref.namespace, name: ref.name } });
    }
    const info = await this.#resource(ref);
    const query = new URLSearchParams({ fieldManager: this.fieldManager });
    if (options.dryRun === true) query.set("dryRun", "All");
    return this.#request<T>("PUT", `${resourcePath(ref, info, ref.namespace, ref.name)}?${query.toString()}`, ref, withoutManagedFields(object), "application/json");
  }

  /** Deletes; false when it was not there. A `resourceVersion` makes the delete conditional on it. */
  async delete(ref: ResourceRef, options: WriteOptions & { resourceVersion?: string } = {}): Promise<boolean> {
    const info = await this.#resource(ref);
    const query = options.dryRun === true ? "?dryRun=All" : "";
    const body = options.resourceVersion === undefined ? undefined : { apiVersion: "v1", kind: "DeleteOptions", preconditions: { resourceVersion: options.resourceVersion } };
    try {
      await this.#request("DELETE", `${resourcePath(ref, info, ref.namespace, ref.name)}${query}`, ref, body, body === undefined ? undefined : "application/json");
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  /** Throws unless the API server answers `/version` (for readiness checks; no retries, it is asked again later). */
  async ready(): Promise<void> {
    await this.#once("GET", "/version", {}, undefined, undefined);
  }

  async getScale(ref: ResourceRef): Promise<Scale | null> {
    const info = await this.#resource(ref);
    try {
      return await this.#request<Scale>("GET", resourcePath(ref, info, ref.namespace, ref.name, "scale"), ref);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /** Sets replicas through the scale subresource (a merge patch of `spec.replicas`, recorded under meshloop's name). */
  async patchScale(ref: ResourceRef, replicas: number, options: WriteOptions = {}): Promise<Scale> {
    const info = await this.#resource(ref);
    const query = new URLSearchParams({ fieldManager: this.fieldManager });
    if (options.dryRun === true) query.set("dryRun", "All");
    return this.#request<Scale>("PATCH", `${resourcePath(ref, info, ref.namespace, ref.name, "scale")}?${query.toString()}`, ref, { spec: { replicas } }, MERGE_PATCH);
  }

  async #resource(type: TypeRef): Promise<ResourceInfo> {
    const known = knownResource(type);
    if (known !== undefined) return known;
    const key = `${type.apiVersion}/${type.kind}`;
    const cached = this.#discovered.get(key);
    if (cached !== undefined) return cached;
    const list = await this.#request<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>("GET", groupVersionPath(type.apiVersion), { ...type });
    const found = list.resources?.find((r) => r.kind === type.kind && !r.name.includes("/"));
    if (found === undefined) {
      throw new NotFoundError(`the API server does not serve ${type.kind} in ${type.apiVersion}`, { context: { method: "GET", kind: type.kind, status: 404 } });
    }
    const info = { plural: found.name, namespaced: found.namespaced };
    this.#discovered.set(key, info);
    return info;
  }

  /** One call, retried while it fails transiently (never on a conflict: that needs a fresh read first). */
  async #request<T>(method: string, path: string, ref: Partial<ResourceRef>, body?: unknown, contentType?: string): Promise<T> {
    const retry = this.#options.retry ?? { attempts: 4, initialDelayMs: 100, maxDelayMs: 2000 };
    let bound = retry.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(method, path, ref, body, contentType);
      } catch (error) {
        const transient = error instanceof MeshloopError && error.retriable && !(error instanceof ConflictError);
        if (!transient || attempt >= retry.attempts) throw error;
        const after = error instanceof KubeApiError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
        await sleep(Math.min(retry.maxDelayMs, Math.max(after, Math.random() * bound)));
        bound = Math.min(bound * 2, retry.maxDelayMs);
      }
    }
  }

  async #once<T>(method: string, path: string, ref: Partial<ResourceRef>, body: unknown, contentType: string | undefined): Promise<T> {
    this.#send ??= createSend(this.#options);
    const send = await this.#send;
    const token = await this.#token();
    const headers: Record<string, string> = { accept: "application/json", "user-agent": this.#options.userAgent ?? "meshloop" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (contentType !== undefined) headers["content-type"] = contentType;
    const context: KubeErrorContext = {
      method,
      ...(ref.kind === undefined ? {} : { kind: ref.kind }),
      ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
      ...(ref.name === undefined ? {} : { name: ref.name }),
    };
    let response;
    try {
      response = await send(`${this.#options.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new KubeApiError(`${method} ${ref.kind ?? ""} ${ref.namespace ?? ""}/${ref.name ?? ""}: the API server did not answer: ${error instanceof Error ? error.message : String(error)}`, { context, cause: error });
    }
    const parsed = parse(response.text);
    if (response.status >= 200 && response.status < 300) return parsed as T;
    throw errorFromResponse(response.status, parsed, context, response.header("retry-after"));
  }
}

function refFor(object: KubeObjectLike): ResourceRef {
  const name = object.metadata?.name;
  if (name === undefined || name === "") throw new ValidationError(`a ${object.kind} to write needs metadata.name`, { context: { kind: object.kind } });
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata?.namespace ?? "", name };
}

// managedFields are the server's bookkeeping: an apply must not carry them, and an update leaves them as they are without.
function withoutManagedFields<T extends KubeObjectLike>(object: T): T {
  if (object.metadata?.managedFields === undefined) return object;
  const { managedFields: _m, ...metadata } = object.metadata;
  return { ...object, metadata };
}

function parse(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
