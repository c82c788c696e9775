/**
 * Consul's config entries as its HTTP API reads and writes them (`/v1/config`), typed for the fields meshloop reads
 * or writes. Entries read from Consul may hold more; they are cloned and carried along untouched.
 */
export interface ConfigEntryBase {
  Kind: string;
  Name: string;
  Namespace?: string;
  Partition?: string;
  Meta?: Record<string, string>;
  CreateIndex?: number;
  ModifyIndex?: number;
}

export interface ServiceSplit {
  Weight: number;
  Service?: string;
  ServiceSubset?: string;
  Namespace?: string;
  Partition?: string;
}

export interface ServiceSplitter extends ConfigEntryBase {
  Kind: "service-splitter";
  Splits: ServiceSplit[];
}

export interface FailoverTarget {
  Service?: string;
  ServiceSubset?: string;
  Namespace?: string;
  Partition?: string;
  Datacenter?: string;
  Peer?: string;
}

export interface ServiceResolver extends ConfigEntryBase {
  Kind: "service-resolver";
  DefaultSubset?: string;
  Subsets?: Record<string, { Filter?: string; OnlyPassing?: boolean }>;
  Failover?: Record<string, { Targets?: FailoverTarget[]; Datacenters?: string[]; Service?: string; ServiceSubset?: string }>;
  ConnectTimeout?: string;
  RequestTimeout?: string;
}

export interface RouteDestination {
  Service?: string;
  ServiceSubset?: string;
  Namespace?: string;
  Partition?: string;
  RequestTimeout?: string;
  NumRetries?: number;
  RetryOnConnectFailure?: boolean;
  RetryOn?: string[];
  RetryOnStatusCodes?: number[];
}

export interface ServiceRoute {
  Match?: { HTTP?: { PathExact?: string; PathPrefix?: string; PathRegex?: string; Header?: unknown[]; QueryParam?: unknown[]; Methods?: string[] } };
  Destination?: RouteDestination;
}

export interface ServiceRouter extends ConfigEntryBase {
  Kind: "service-router";
  Routes?: ServiceRoute[];
}

export interface UpstreamLimits {
  MaxConnections?: number;
  MaxPendingRequests?: number;
  MaxConcurrentRequests?: number;
}

export interface PassiveHealthCheck {
  Interval?: string;
  MaxFailures?: number;
  EnforcingConsecutive5xx?: number;
  MaxEjectionPercent?: number;
  BaseEjectionTime?: string;
}

export interface UpstreamOverride {
  Name: string;
  Namespace?: string;
  Partition?: string;
  Peer?: string;
  Limits?: UpstreamLimits;
  PassiveHealthCheck?: PassiveHealthCheck;
}

export interface ServiceDefaults extends ConfigEntryBase {
  Kind: "service-defaults";
  Protocol?: string;
  UpstreamConfig?: { Defaults?: Omit<UpstreamOverride, "Name">; Overrides?: UpstreamOverride[] };
  RateLimits?: { InstanceLevel?: { RequestsPerSecond?: number; RequestsMaxBurst?: number } };
}

export interface IntentionSource {
  Name: string;
  Namespace?: string;
  Partition?: string;
  Peer?: string;
  Action?: "allow" | "deny";
  Permissions?: unknown[];
  Description?: string;
}

export interface ServiceIntentions extends ConfigEntryBase {
  Kind: "service-intentions";
  Sources?: IntentionSource[];
}

export type ConfigEntry = ServiceSplitter | ServiceResolver | ServiceRouter | ServiceDefaults | ServiceIntentions;

/** How meshloop marks the entries it created (config entries have Meta, not labels). */
export const MANAGED_BY_META = "managed-by";
export const MESHLOOP = "meshloop";

export function isOwnedEntry(entry: ConfigEntryBase | null | undefined): boolean {
  return entry?.Meta?.[MANAGED_BY_META] === MESHLOOP;
}

/** A copy without the Raft indexes: the index to compare goes in the `cas` parameter, not the body. */
export function forWrite<T extends ConfigEntryBase>(entry: T): T {
  const copy = structuredClone(entry);
  delete copy.CreateIndex;
  delete copy.ModifyIndex;
  return copy;
}

/**
 * Who else writes an entry. consul-k8s reconciles entries it made from Kubernetes custom resources (marking them with
 * `external-source: kubernetes`) and would overwrite meshloop's change; another tool's `managed-by` says the same.
 */
export function findEntryController(entry: ConfigEntryBase | null): string | null {
  const meta = entry?.Meta ?? {};
  if (meta["external-source"] === "kubernetes") {
    const dc = meta["consul.hashicorp.com/source-datacenter"];
    return `written by consul-k8s from a Kubernetes resource${dc === undefined ? "" : ` in datacenter ${dc}`}, which it would restore; change the custom resource instead`;
  }
  const managedBy = meta[MANAGED_BY_META];
  if (managedBy !== undefined && managedBy !== MESHLOOP) return `managed by ${managedBy} (Meta ${MANAGED_BY_META}); meshloop does not fight another writer`;
  return null;
}
