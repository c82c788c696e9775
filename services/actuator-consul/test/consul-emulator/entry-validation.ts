// What Consul checks when a config entry is written, as far as meshloop's entries go: the entry's shape, a splitter's
// weights, and the discovery chain (splitters and routers need an L7 protocol; a split to a subset needs the
// resolver to define it). Returns the error text Consul answers with, or null.

export type Entry = Record<string, unknown> & { Kind: string; Name: string; CreateIndex?: number; ModifyIndex?: number };

export const KINDS = new Set([
  "service-defaults",
  "proxy-defaults",
  "service-router",
  "service-splitter",
  "service-resolver",
  "service-intentions",
  "ingress-gateway",
  "terminating-gateway",
  "mesh",
  "exported-services",
]);

const L7 = new Set(["http", "http2", "grpc"]);

/** The entry's own shape; null when it is acceptable on its own. */
export function validateShape(body: unknown): string | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "Request decoding failed: the body is not a JSON object";
  const entry = body as Record<string, unknown>;
  if (typeof entry.Kind !== "string" || entry.Kind === "") return "Request decoding failed: Payload does not contain a Kind key at the top level";
  if (!KINDS.has(entry.Kind)) return `invalid config entry kind: ${entry.Kind}`;
  if (typeof entry.Name !== "string" || entry.Name === "") return "Name is required";
  if (entry.Kind === "proxy-defaults" && entry.Name !== "global") return 'invalid name ("' + entry.Name + '"), only "global" is supported';
  if (entry.Kind === "service-splitter") return validateSplits(entry);
  if (entry.Kind === "service-intentions") return validateSources(entry);
  return null;
}

function validateSplits(entry: Record<string, unknown>): string | null {
  const splits = entry.Splits;
  if (!Array.isArray(splits) || splits.length === 0) return "no splits configured";
  let sum = 0;
  for (const split of splits as { Weight?: unknown }[]) {
    if (typeof split.Weight !== "number" || split.Weight < 0 || split.Weight > 100) return `split weight ${JSON.stringify(split.Weight)} is not between 0 and 100`;
    sum += split.Weight;
  }
  // Consul compares in hundredths of a percent.
  if (Math.round(sum * 100) !== 10_000) return `the sum of all split weights must be 100, not ${sum}`;
  return null;
}

function validateSources(entry: Record<string, unknown>): string | null {
  const sources = entry.Sources ?? [];
  if (!Array.isArray(sources)) return "Sources must be a list";
  for (const [i, source] of (sources as { Name?: unknown; Action?: unknown; Permissions?: unknown }[]).entries()) {
    if (typeof source.Name !== "string" || source.Name === "") return `Sources[${i}].Name is required`;
    if (source.Permissions === undefined && source.Action !== "allow" && source.Action !== "deny") return `Sources[${i}].Action must be set to 'allow' or 'deny'`;
  }
  return null;
}

/** How the emulator's store is read by the chain checks. */
export type Lookup = (kind: string, name: string) => Entry | undefined;

export function protocolOf(service: string, lookup: Lookup): string {
  const defaults = lookup("service-defaults", service);
  if (typeof defaults?.Protocol === "string" && defaults.Protocol !== "") return defaults.Protocol;
  const config = lookup("proxy-defaults", "global")?.Config as Record<string, unknown> | undefined;
  return typeof config?.protocol === "string" ? config.protocol : "tcp";
}

/** The discovery chain rooted at `service` with `next` in place of the stored entry of its kind (null: deleted). */
export function validateChain(service: string, lookup: Lookup): string | null {
  const splitter = lookup("service-splitter", service);
  const router = lookup("service-router", service);
  if (splitter !== undefined || router !== undefined) {
    const protocol = protocolOf(service, lookup);
    if (!L7.has(protocol)) return `discovery chain "${service}" uses a protocol "${protocol}" that does not permit advanced routing or splitting behavior`;
  }
  for (const split of (splitter?.Splits ?? []) as { Service?: string; ServiceSubset?: string }[]) {
    if (split.ServiceSubset === undefined || split.ServiceSubset === "") continue;
    const target = split.Service ?? service;
    const subsets = (lookup("service-resolver", target)?.Subsets ?? {}) as Record<string, unknown>;
    if (!(split.ServiceSubset in subsets)) return `service "${target}" does not have a subset named "${split.ServiceSubset}"`;
  }
  return null;
}
