import type { GitopsOutput } from "@meshloop/actuator-kit";
import { ValidationError } from "@meshloop/errors";
import type { ConsulWrite } from "./translation.ts";

/**
 * The `gitops` output mode for Consul: each config entry as a JSON file `consul config write` accepts, one file per
 * entry, at `consul/[<partition>/][<namespace>/]<kind>-<name>.json`; replicas (consul-k8s) as a patch of the
 * workload's manifest at `kubernetes/<namespace>/<kind>-<name>.replicas.json`. The same entries always give
 * byte-identical files (keys in a fixed order, no Raft indexes), so a commit happens only when something really
 * changed. The output has the shape every mesh's has, so the runtime's writeGitopsOutput writes (and commits) it.
 */
export type { GitopsFile, GitopsOutput } from "@meshloop/actuator-kit";

const ENTRY_ORDER = ["Kind", "Name", "Partition", "Namespace", "Meta"];
const TOP_ORDER = ["apiVersion", "kind", "metadata", "spec"];
const RAFT = ["CreateIndex", "ModifyIndex"];

export function renderGitops(resources: readonly ConsulWrite[]): GitopsOutput {
  const files = new Map<string, string>();
  const deletions = new Set<string>();
  const put = (path: string, value: unknown, order: readonly string[]) => {
    if (files.has(path)) throw new ValidationError(`two resources render to ${path}`, { context: { path } });
    files.set(path, `${JSON.stringify(canonicalize(value, order), null, 2)}\n`);
  };
  for (const write of resources) {
    switch (write.action) {
      case "write": {
        const entry = structuredClone(write.entry) as unknown as Record<string, unknown>;
        for (const field of RAFT) delete entry[field];
        put(entryPath(write.entry.Kind, write.entry.Name, write.entry.Namespace, write.entry.Partition), entry, ENTRY_ORDER);
        break;
      }
      case "delete":
        deletions.add(entryPath(write.ref.kind, write.ref.name, write.ref.namespace, write.ref.partition));
        break;
      case "scale": {
        const patch = { apiVersion: write.ref.apiVersion, kind: write.ref.kind, metadata: { name: write.ref.name, namespace: write.ref.namespace }, spec: { replicas: write.replicas } };
        put(`kubernetes/${segment(write.ref.namespace)}/${write.ref.kind.toLowerCase()}-${segment(write.ref.name)}.replicas.json`, patch, TOP_ORDER);
        break;
      }
    }
  }
  const sorted = [...files.entries()].sort(([a], [b]) => compare(a, b)).map(([path, content]) => ({ path, content }));
  return { files: sorted, deletions: [...deletions].filter((p) => !files.has(p)).sort(compare) };
}

/** Keys in a fixed order at every level: the given ones first at the top, the rest in code-unit order. */
export function canonicalize(value: unknown, order: readonly string[] = [], depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => canonicalize(v, order, depth + 1));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const first = depth === 0 ? order : [];
  const rank = (k: string) => (first.includes(k) ? first.indexOf(k) : first.length);
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort((a, b) => rank(a) - rank(b) || compare(a, b));
  return Object.fromEntries(keys.map((k) => [k, canonicalize(record[k], order, depth + 1)]));
}

function entryPath(kind: string, name: string, namespace: string | undefined, partition: string | undefined): string {
  const scope = [partition, namespace].filter((s): s is string => s !== undefined).map(segment);
  return ["consul", ...scope, `${segment(kind)}-${segment(name)}.json`].join("/");
}

// Consul and Kubernetes names cannot hold these, so one that does was not read from them: never write outside the tree.
function segment(value: string): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(value) || value.includes("..")) {
    throw new ValidationError(`"${value}" is not a Consul or Kubernetes name`, { context: { value } });
  }
  return value;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
