// Desired states and Consul reads for the tests to start from and change one part at a time.
import { emptyDesiredState } from "@meshloop/contracts";
import type { DesiredState } from "@meshloop/contracts";
import type { ConfigEntry, ConsulContext, ConsulWrite } from "../src/index.ts";

export const NOW = Date.parse("2025-05-01T12:00:00Z");
export const LATER = "2025-05-01T13:00:00Z";
export const EARLIER = "2025-05-01T11:00:00Z";
export const OWNED_META = { "managed-by": "meshloop" };

export function state(parts: Partial<Omit<DesiredState, "target">> = {}): DesiredState {
  return { ...emptyDesiredState({ mesh: "consul", namespace: "shop", service: "checkout" }), ...parts };
}

export function context(overrides: Partial<ConsulContext> = {}): ConsulContext {
  return {
    nowMs: NOW,
    protocol: "http",
    resolver: null,
    splitter: null,
    router: null,
    intentions: null,
    serviceDefaults: null,
    callers: [],
    localityTargets: {},
    instances: 4,
    workload: null,
    autoscalers: [],
    ...overrides,
  };
}

/** The entries written, by kind and name, for finding one. */
export function written(resources: readonly ConsulWrite[], kind: string, name = "checkout"): { entry: ConfigEntry; cas: number } {
  const write = resources.find((w) => w.action === "write" && w.entry.Kind === kind && w.entry.Name === name);
  if (write === undefined || write.action !== "write") throw new Error(`no ${kind} ${name} written in ${JSON.stringify(resources)}`);
  return { entry: write.entry, cas: write.cas };
}

/** meshloop's record of the original in an entry's Meta (its pieces joined), parsed: field name to original. */
export function originals(entry: ConfigEntry): Record<string, unknown> {
  const pieces = Object.entries(entry.Meta ?? {}).filter(([k]) => k.startsWith("meshloop-original-")).sort(([a], [b]) => Number(a.split("-").pop()) - Number(b.split("-").pop()));
  if (pieces.length === 0) throw new Error(`no record in the Meta of ${entry.Kind} ${entry.Name}`);
  const fields = (JSON.parse(pieces.map(([, v]) => v).join("")) as { fields: Record<string, { original?: unknown }> }).fields;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.original]));
}

/** The writes with meshloop's record taken out of each entry's Meta, for comparing the rest with an expected one. */
export function withoutRecords<T extends { entry: ConfigEntry } | ConsulWrite>(writes: readonly T[]): T[] {
  return writes.map((w) => {
    if (!("entry" in w)) return w;
    const entry = structuredClone(w.entry);
    const meta = Object.fromEntries(Object.entries(entry.Meta ?? {}).filter(([k]) => !k.startsWith("meshloop-original-")));
    if (Object.keys(meta).length > 0) entry.Meta = meta;
    else delete entry.Meta;
    return { ...w, entry };
  });
}
