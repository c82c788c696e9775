import type { ConnectionLimits, Failover, TargetRef } from "@meshloop/contracts";
import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import {
  clone,
  formatDuration,
  hasRecord,
  MANAGED_BY_LABEL,
  MESHLOOP,
  ORIGINAL_ANNOTATION,
  originalAnnotation,
  ownedName,
  recordedFields,
  recordMerge,
  restorationNotes,
  restoreFields,
  setOriginalAnnotation,
} from "@meshloop/actuator-kit";
import type { EjectionSettings, FieldAccess } from "@meshloop/actuator-kit";

/**
 * The DestinationRule side of a desired state: the subsets weights route to, and the traffic policy's outlier
 * detection (ejection), connection pool (limits), retry budget and locality load balancing (failover). In a user's
 * DestinationRule meshloop adds only the subsets it is missing and sets only these fields; the user's subsets, TLS
 * settings and load-balancing algorithm stay.
 */
export type TrafficPolicy = NonNullable<NonNullable<IDestinationRule["spec"]>["trafficPolicy"]>;
type Subset = NonNullable<NonNullable<IDestinationRule["spec"]>["subsets"]>[number];
type LocalityLbSetting = NonNullable<NonNullable<TrafficPolicy["loadBalancer"]>["localityLbSetting"]>;

export interface PolicyPlan {
  host: string;
  subsets: { name: string; labels: Record<string, string> }[];
  outlierDetection: NonNullable<TrafficPolicy["outlierDetection"]> | null;
  connectionPool: { tcp: { maxConnections: number }; http: { http1MaxPendingRequests: number; http2MaxRequests: number; maxRetries: number } } | null;
  retryBudget: { percent: number; minRetryConcurrency: number } | null;
  localityLbSetting: LocalityLbSetting | null;
}

// Istio's own defaults, written out when failover needs outlier detection and nothing else asked for it.
export const ISTIO_DEFAULT_OUTLIER_DETECTION = { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 10 };

export function isEmptyPlan(plan: PolicyPlan): boolean {
  return plan.subsets.length === 0 && plan.outlierDetection === null && plan.connectionPool === null && plan.retryBudget === null && plan.localityLbSetting === null;
}

export function outlierDetection(settings: EjectionSettings): NonNullable<TrafficPolicy["outlierDetection"]> {
  return {
    consecutive5xxErrors: settings.consecutive5xx,
    interval: formatDuration(settings.intervalMs),
    baseEjectionTime: formatDuration(settings.baseEjectionTimeMs),
    // int32 in Istio's schema.
    maxEjectionPercent: Math.round(settings.maxEjectionPercent),
  };
}

export function connectionPool(limits: ConnectionLimits): NonNullable<PolicyPlan["connectionPool"]> {
  return {
    tcp: { maxConnections: limits.maxConnections },
    // http2MaxRequests caps active requests over HTTP/1.1 too, whatever its name says.
    http: { http1MaxPendingRequests: limits.maxPendingRequests, http2MaxRequests: limits.maxRequests, maxRetries: limits.maxRetries },
  };
}

/**
 * Istio's failover names one region per source region (`from`/`to` are regions); zones within a region already fail
 * over in Istio's default locality order. Weighted distribution maps onto `distribute` with `/*` wildcards.
 */
export function localityLbSetting(failover: Failover): { setting: LocalityLbSetting; warnings: string[] } {
  if (failover.kind === "distribute") {
    const to: Record<string, number> = {};
    for (const [locality, weight] of Object.entries(failover.distribution).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (weight > 0) to[wildcard(locality)] = weight;
    }
    return { setting: { enabled: true, distribute: [{ from: wildcard(failover.fromLocality), to }] }, warnings: [] };
  }
  const fromRegion = regionOf(failover.fromLocality);
  const regions = [...new Set(failover.toLocalities.map(regionOf))].filter((r) => r !== fromRegion);
  const warnings: string[] = [];
  if (failover.toLocalities.some((l) => l.includes("/"))) {
    warnings.push("Istio fails over between regions; zones and subzones within a region follow Istio's default locality order");
  }
  if (regions.length === 0) return { setting: { enabled: true }, warnings };
  if (regions.length > 1) {
    warnings.push(`Istio names one failover region per source region: ${fromRegion} -> ${regions[0]}; ${regions.slice(1).join(", ")} follow Istio's default order`);
  }
  return { setting: { enabled: true, failover: [{ from: fromRegion, to: regions[0]! }] }, warnings };
}

export function newDestinationRule(target: TargetRef, plan: PolicyPlan): IDestinationRule {
  const rule: IDestinationRule = {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: ownedName(target.service), namespace: target.namespace, labels: { [MANAGED_BY_LABEL]: MESHLOOP } },
    spec: { host: plan.host },
  };
  if (plan.subsets.length > 0) rule.spec!.subsets = plan.subsets.map((s) => ({ name: s.name, labels: { ...s.labels } }));
  const policy = applyPolicy({}, plan);
  if (Object.keys(policy).length > 0) rule.spec!.trafficPolicy = policy;
  return rule;
}

/**
 * The user's DestinationRule with meshloop's subsets added and its traffic-policy fields set, nothing else changed.
 * What it changes for the first time (each subset it adds, each policy field it sets) is recorded as found in the
 * `meshloop.io/original` annotation of the same update; a record already there keeps its originals.
 */
export function mergeDestinationRule(existing: IDestinationRule, plan: PolicyPlan): { ok: true; object: IDestinationRule; warnings: string[] } | { ok: false; reason: string } {
  const merged = clone(existing);
  const spec = (merged.spec ??= { host: plan.host });
  const warnings: string[] = [];
  const subsets = (spec.subsets ??= []);
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const wanted of plan.subsets) {
    const theirs = subsets.find((s) => s.name === wanted.name);
    if (theirs === undefined) {
      const added = { name: wanted.name, labels: { ...wanted.labels } };
      subsets.push(added);
      before[subsetKey(wanted.name)] = undefined;
      after[subsetKey(wanted.name)] = added;
    } else if (!sameLabels(theirs.labels ?? {}, wanted.labels)) {
      warnings.push(`subset ${wanted.name} keeps the user's labels ${JSON.stringify(theirs.labels ?? {})}, not ${JSON.stringify(wanted.labels)}`);
    }
  }
  if (subsets.length === 0) delete spec.subsets;
  const policy = applyPolicy(spec.trafficPolicy ?? {}, plan);
  if (Object.keys(policy).length > 0) spec.trafficPolicy = policy;
  for (const field of POLICY_FIELDS) {
    if (!field.managed(plan)) continue;
    before[field.key] = field.get(existing.spec?.trafficPolicy);
    after[field.key] = field.get(spec.trafficPolicy);
  }
  warnings.push(...shadowed(subsets, spec.trafficPolicy, plan));
  const record = recordMerge(originalAnnotation(existing.metadata), before, after);
  if (!record.ok) return { ok: false, reason: `DestinationRule ${existing.metadata?.namespace}/${existing.metadata?.name}, annotation ${ORIGINAL_ANNOTATION}: ${record.reason}` };
  setOriginalAnnotation((merged.metadata ??= {}), record.text);
  return { ok: true, object: merged, warnings };
}

/**
 * The user's DestinationRule as meshloop found it, for a release: the subsets it added removed, the policy fields it
 * set put back, the record dropped; null when there is no record. A subset that `inUse` (the routes as they will be
 * after this translation) still sends traffic to stays, as removing it would fail those requests; a field someone
 * changed since meshloop wrote it stays as they made it. `notes` says what stayed and why.
 */
export function restoreDestinationRule(existing: IDestinationRule, inUse: ReadonlySet<string>): { object: IDestinationRule; notes: string[] } | null {
  const text = originalAnnotation(existing.metadata);
  if (!hasRecord(text)) return null;
  const restored = clone(existing);
  const spec = (restored.spec ??= { host: "" });
  const fields = new Map<string, FieldAccess>();
  for (const key of recordedFields(text)) {
    const name = SUBSET_KEY.exec(key)?.[1];
    if (name === undefined) continue;
    fields.set(key, {
      get: () => spec.subsets?.find((s) => s.name === name),
      set: (value) => {
        const rest = (spec.subsets ?? []).filter((s) => s.name !== name);
        spec.subsets = value === undefined ? rest : [...rest, value as Subset];
      },
    });
  }
  for (const field of POLICY_FIELDS) {
    fields.set(field.key, { get: () => field.get(spec.trafficPolicy), set: (value) => field.set((spec.trafficPolicy ??= {}), value) });
  }
  const stillRouted = (key: string) => {
    const name = SUBSET_KEY.exec(key)?.[1];
    return name !== undefined && inUse.has(name);
  };
  const restoration = restoreFields(text, fields, stillRouted);
  if (spec.subsets?.length === 0) delete spec.subsets;
  const policy = spec.trafficPolicy;
  if (policy?.loadBalancer !== undefined && Object.keys(policy.loadBalancer).length === 0) delete policy.loadBalancer;
  if (policy !== undefined && Object.keys(policy).length === 0) delete spec.trafficPolicy;
  setOriginalAnnotation((restored.metadata ??= {}), null);
  const what = `DestinationRule ${existing.metadata?.namespace}/${existing.metadata?.name}`;
  const notes = restorationNotes(what, restoration);
  const routed = recordedFields(text).filter(stillRouted).map((k) => SUBSET_KEY.exec(k)![1]!);
  if (routed.length > 0) notes.push(`${what}: subset ${routed.join(", ")} is still routed to, so it stays`);
  return { object: restored, notes };
}

// The names of the fields in meshloop's record: each subset it added, by name, and the traffic-policy fields it sets.
const subsetKey = (name: string) => `spec.subsets[${name}]`;
const SUBSET_KEY = /^spec\.subsets\[(.+)\]$/;

interface PolicyField {
  key: string;
  managed(plan: PolicyPlan): boolean;
  get(policy: TrafficPolicy | undefined): unknown;
  set(policy: TrafficPolicy, value: unknown): void;
}

function policyField<K extends "outlierDetection" | "connectionPool" | "retryBudget">(name: K, plan: keyof PolicyPlan): PolicyField {
  return {
    key: `spec.trafficPolicy.${name}`,
    managed: (p) => p[plan] !== null,
    get: (policy) => policy?.[name],
    set: (policy, value) => {
      if (value === undefined) delete policy[name];
      else policy[name] = value as TrafficPolicy[K];
    },
  };
}

const POLICY_FIELDS: readonly PolicyField[] = [
  policyField("outlierDetection", "outlierDetection"),
  policyField("connectionPool", "connectionPool"),
  policyField("retryBudget", "retryBudget"),
  {
    key: "spec.trafficPolicy.loadBalancer.localityLbSetting",
    managed: (p) => p.localityLbSetting !== null,
    get: (policy) => policy?.loadBalancer?.localityLbSetting,
    set: (policy, value) => {
      // Istio types loadBalancer as a union of its variants; localityLbSetting is in every one.
      const loadBalancer: Record<string, unknown> = { ...policy.loadBalancer };
      if (value === undefined) delete loadBalancer.localityLbSetting;
      else loadBalancer.localityLbSetting = value;
      policy.loadBalancer = loadBalancer;
    },
  },
];

function applyPolicy(base: TrafficPolicy, plan: PolicyPlan): TrafficPolicy {
  const policy: TrafficPolicy = { ...base };
  if (plan.outlierDetection !== null) policy.outlierDetection = { ...policy.outlierDetection, ...plan.outlierDetection };
  if (plan.connectionPool !== null) {
    const pool = policy.connectionPool ?? {};
    policy.connectionPool = { ...pool, tcp: { ...pool.tcp, ...plan.connectionPool.tcp }, http: { ...pool.http, ...plan.connectionPool.http } };
  }
  if (plan.retryBudget !== null) policy.retryBudget = { ...plan.retryBudget };
  if (plan.localityLbSetting !== null) {
    policy.loadBalancer = { ...policy.loadBalancer, localityLbSetting: plan.localityLbSetting };
  }
  return policy;
}

// Subset- and port-level policies replace the top-level ones for their traffic: say where meshloop's settings do not reach.
function shadowed(subsets: readonly Subset[], policy: TrafficPolicy | undefined, plan: PolicyPlan): string[] {
  const fields = [
    ["outlierDetection", plan.outlierDetection !== null],
    ["connectionPool", plan.connectionPool !== null],
  ] as const;
  const out: string[] = [];
  for (const [field, managed] of fields) {
    if (!managed) continue;
    for (const subset of subsets) {
      if (subset.trafficPolicy?.[field] !== undefined) out.push(`subset ${subset.name} has its own ${field}, which overrides meshloop's for its traffic`);
    }
    for (const port of policy?.portLevelSettings ?? []) {
      if (port[field] !== undefined) out.push(`port ${port.port?.number ?? "?"} has its own ${field}, which overrides meshloop's for its traffic`);
    }
  }
  return out;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function regionOf(locality: string): string {
  return locality.split("/")[0]!;
}

function wildcard(locality: string): string {
  return locality.split("/").length < 3 ? `${locality}/*` : locality;
}
