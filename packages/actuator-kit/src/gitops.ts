import { ValidationError } from "@meshloop/errors";
import { stringify } from "yaml";
import type { KubeObject } from "./kube.ts";
import type { KubeWrite } from "./translation.ts";

/**
 * The `gitops` output mode: the translated resources as files for a repository that a GitOps tool syncs, one file
 * per resource. The same resources always give byte-identical files (keys in a fixed order, no timestamps, no
 * server-set fields), so a commit happens only when something really changed and reviews show only that.
 */
export interface GitopsFile {
  /** Relative, `<namespace>/<kind>-<name>.yaml`; patches of others' objects end in `.patch.yaml`, replicas in `.replicas.yaml`. */
  path: string;
  content: string;
}

export interface GitopsOutput {
  /** Sorted by path. */
  files: GitopsFile[];
  /** Files of objects meshloop no longer wants, to remove from the repository. */
  deletions: string[];
}

export interface GitopsOptions {
  format?: "yaml" | "json";
}

// Fields the API server sets; in Git they are noise that changes on every read.
const SERVER_METADATA = ["resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink"];
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const TOP_ORDER = ["apiVersion", "kind", "metadata", "spec"];
const METADATA_ORDER = ["name", "namespace"];

export function renderGitops(resources: readonly KubeWrite[], options: GitopsOptions = {}): GitopsOutput {
  const format = options.format ?? "yaml";
  const files = new Map<string, string>();
  const deletions = new Set<string>();
  const put = (path: string, content: string) => {
    if (files.has(path)) throw new ValidationError(`two resources render to ${path}`, { context: { path } });
    files.set(path, content);
  };
  for (const write of resources) {
    switch (write.action) {
      case "apply":
      case "update": {
        // A partial object is a patch of someone else's manifest (kustomize applies it), not a manifest of its own.
        const name = write.action === "apply" && write.partial === true ? `${write.object.metadata?.name ?? ""}.patch` : write.object.metadata?.name;
        put(pathFor(write.object.kind, write.object.metadata?.namespace, name, format), serialize(forGit(write.object), format));
        break;
      }
      case "delete":
        deletions.add(pathFor(write.ref.kind, write.ref.namespace, write.ref.name, format));
        break;
      case "scale": {
        // The workload's manifest lives in the team's repository; a patch of its replicas is what meshloop can own.
        const patch = { apiVersion: write.ref.apiVersion, kind: write.ref.kind, metadata: { name: write.ref.name, namespace: write.ref.namespace }, spec: { replicas: write.replicas } };
        put(pathFor(write.ref.kind, write.ref.namespace, `${write.ref.name}.replicas`, format), serialize(patch, format));
        break;
      }
    }
  }
  const sorted = [...files.entries()].sort(([a], [b]) => compare(a, b)).map(([path, content]) => ({ path, content }));
  return { files: sorted, deletions: [...deletions].filter((p) => !files.has(p)).sort(compare) };
}

/** Keys in a fixed order at every level, so equal objects serialize to equal bytes whatever order they were built in. */
export function canonicalize(value: unknown, depth = 0, parent = ""): unknown {
  if (Array.isArray(value)) return value.map((item) => canonicalize(item, depth + 1, parent));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const order = depth === 0 ? TOP_ORDER : parent === "metadata" && depth === 1 ? METADATA_ORDER : [];
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort((a, b) => rank(order, a) - rank(order, b) || compare(a, b));
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = canonicalize(record[key], depth + 1, key);
  return out;
}

function forGit(object: KubeObject): unknown {
  const copy = structuredClone(object) as KubeObject & { status?: unknown };
  delete copy.status;
  const metadata = (copy.metadata ?? {}) as Record<string, unknown>;
  for (const field of SERVER_METADATA) delete metadata[field];
  const annotations = metadata["annotations"] as Record<string, string> | undefined;
  if (annotations !== undefined) {
    delete annotations[LAST_APPLIED];
    if (Object.keys(annotations).length === 0) delete metadata["annotations"];
  }
  return copy;
}

function serialize(object: unknown, format: "yaml" | "json"): string {
  const canonical = canonicalize(object);
  if (format === "json") return `${JSON.stringify(canonical, null, 2)}\n`;
  // lineWidth 0: no folding, whose points would depend on the values' lengths.
  return stringify(canonical, { lineWidth: 0, minContentWidth: 0 });
}

function pathFor(kind: string, namespace: string | undefined, name: string | undefined, format: "yaml" | "json"): string {
  const ns = namespace ?? "";
  const n = name ?? "";
  for (const [what, value] of [["namespace", ns], ["name", n]] as const) {
    // Kubernetes names cannot hold these, so one that does was not read from a cluster: never write outside the tree.
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(value) || value.includes("..")) {
      throw new ValidationError(`${kind} ${what} "${value}" is not a Kubernetes name`, { context: { kind, [what]: value } });
    }
  }
  return `${ns}/${kind.toLowerCase()}-${n}.${format}`;
}

function rank(order: readonly string[], key: string): number {
  const i = order.indexOf(key);
  return i === -1 ? order.length : i;
}

// Code-unit order, not locale order: the same on every machine.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
