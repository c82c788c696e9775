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
