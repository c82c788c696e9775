import { z } from "zod";
import { targetRefSchema } from "./target.ts";
import type { TargetRef } from "./target.ts";
import { issue } from "./validation.ts";

/**
 * The complete, mesh-agnostic desired state of one target. Decisions always carry all of it, never a delta, so an
 * actuator can converge from any starting point and a lost or reordered decision is healed by the next one.
 * A part set to `null` is not managed by meshloop: the actuator leaves the mesh's own configuration of it alone.
 *
 * Leases: ejected instances and denied callers carry an expiry (RFC 3339). Past it the entry no longer holds, even if
 * no newer decision arrives, so a stopped decision engine cannot leave an instance ejected or a caller denied for
 * good; see `pruneExpiredLeases`.
 */
const timestamp = z.iso.datetime({ offset: true });
const positiveMs = z.int().positive();
const percent = z.number().min(0).max(100);

/** Versions' traffic shares in whole percent; a failed sum check names the sum, the most useful fact. */
export const weightsSchema = z.record(z.string().min(1), z.int().min(0).max(100)).superRefine((weights, ctx) => {
  const entries = Object.entries(weights);
  const sum = entries.reduce((total, [, w]) => total + w, 0);
  if (sum !== 100) {
    const parts = entries.map(([version, w]) => `${version}=${w}`).join(", ");
    issue(ctx, `weights must sum to 100, got ${sum}${parts ? ` (${parts})` : ""}`);
  }
});

export const RETRY_CONDITIONS = [
  "5xx",
  "gateway-error",
  "reset",
  "connect-failure",
  "retriable-status-codes",
  "unavailable",
  "cancelled",
  "deadline-exceeded",
  "resource-exhausted",
] as const;
export const retryConditionSchema = z.enum(RETRY_CONDITIONS);
export type RetryCondition = z.infer<typeof retryConditionSchema>;

export const retryPolicySchema = z
  .object({
    attempts: z.int().min(0).max(10),
    /** null: each try may use the whole request timeout. */
    perTryTimeoutMs: positiveMs.nullable(),
    retryOn: z.array(retryConditionSchema),
    retriableStatusCodes: z.array(z.int().min(100).max(599)),
    /** Retries as a share of requests plus a floor per second; null leaves the mesh's default budget. */
    budget: z.object({ percent, minRetriesPerSecond: z.number().min(0) }).nullable(),
  })
  .refine((r) => r.retriableStatusCodes.length === 0 || r.retryOn.includes("retriable-status-codes"), {
    error: 'retriableStatusCodes need "retriable-status-codes" in retryOn',
    path: ["retryOn"],
  });

export const connectionLimitsSchema = z.object({
  maxConnections: z.int().positive(),
  maxPendingRequests: z.int().positive(),
  maxRequests: z.int().positive(),
  maxRetries: z.int().positive(),
});

export const instanceEjectionSchema = z.object({
  instanceId: z.string().min(1),
  leaseExpiresAt: timestamp,
  reason: z.string().min(1),
});

/** The proxies' own outlier detectors' settings, plus instances chosen for ejection (only the lab honours those). */
export const ejectionSchema = z.object({
  consecutive5xx: z.int().positive(),
  intervalMs: positiveMs,
  baseEjectionTimeMs: positiveMs,
  maxEjectionPercent: percent,
  ejectInstances: z.array(instanceEjectionSchema),
});

export const replicasSchema = z.object({
  // Never 0: scaling a service away is not a control action meshloop takes on its own.
  count: z.int().min(1),
  /** `recommend` when an autoscaler (HPA, KEDA) owns the replica count: published, not applied. */
  mode: z.enum(["apply", "recommend"]),
});

// Istio's locality syntax, `region`, `region/zone` or `region/zone/subzone`.
const locality = z.string().regex(/^[^/\s]+(\/[^/\s]+){0,2}$/, "must be region, region/zone or region/zone/subzone");

export const failoverSchema = z.discriminatedUnion("kind", [
  /** Traffic stays local until the local endpoints fail, then goes to the listed localities in order. */
  z.object({ kind: z.literal("failover"), fromLocality: locality, toLocalities: z.array(locality).min(1) }),
  /** Traffic from a locality is spread over localities by weight. */
  z.object({
    kind: z.literal("distribute"),
    fromLocality: locality,
    distribution: z.record(locality, z.int().min(0).max(100)).refine(
      (d) => Object.values(d).reduce((a, b) => a + b, 0) === 100,
      { error: "distribution weights must sum to 100" },
    ),
  }),
]);

export const rateLimitSchema = z.object({ requestsPerSecond: z.number().positive() });

export const deniedCallerSchema = z.object({
  /** As authorization policies name callers, e.g. `spiffe://cluster.local/ns/shop/sa/crawler` (see callerIdentity). */
  identity: z.string().min(1),
  service: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  reason: z.string().min(1),
  /** Absent: denied until a decision drops it (an operator's choice); controllers always set one. */
  leaseExpiresAt: timestamp.optional(),
});

export const desiredStateSchema = z
  .object({
    target: targetRefSchema,
    weights: weightsSchema.nullable(),
    retries: retryPolicySchema.nullable(),
    requestTimeoutMs: positiveMs.nullable(),
    connectionLimits: connectionLimitsSchema.nullable(),
    ejection: ejectionSchema.nullable(),
    replicas: replicasSchema.nullable(),
    failover: failoverSchema.nullable(),
    rateLimit: rateLimitSchema.nullable(),
    /** Empty: meshloop denies no one (and removes the denials it made before). */
    deniedCallers: z.array(deniedCallerSchema),
  })
  .superRefine((state, ctx) => {
    const seen = new Set<string>();
    state.deniedCallers.forEach((caller, i) => {
      if (seen.has(caller.identity)) {
        issue(ctx, `identity ${caller.identity} is denied twice`, ["deniedCallers", i, "identity"]);
      }
      seen.add(caller.identity);
    });
  });

export type Weights = z.infer<typeof weightsSchema>;
export type RetryPolicy = z.infer<typeof retryPolicySchema>;
export type ConnectionLimits = z.infer<typeof connectionLimitsSchema>;
export type InstanceEjection = z.infer<typeof instanceEjectionSchema>;
export type Ejection = z.infer<typeof ejectionSchema>;
export type Replicas = z.infer<typeof replicasSchema>;
export type Failover = z.infer<typeof failoverSchema>;
export type RateLimit = z.infer<typeof rateLimitSchema>;
export type DeniedCaller = z.infer<typeof deniedCallerSchema>;
export type DesiredState = z.infer<typeof desiredStateSchema>;

/** Manages nothing: what a target's desired state is before any controller acted, and after a release. */
export function emptyDesiredState(target: TargetRef): DesiredState {
  return {
    target: { ...target },
    weights: null,
    retries: null,
    requestTimeoutMs: null,
    connectionLimits: null,
    ejection: null,
    replicas: null,
    failover: null,
    rateLimit: null,
    deniedCallers: [],
  };
}

/** The state without the ejections and denials whose lease ran out at `nowMs`; unchanged parts are shared. */
export function pruneExpiredLeases(state: DesiredState, nowMs: number): DesiredState {
  const live = (expiry: string | undefined) => expiry === undefined || Date.parse(expiry) > nowMs;
  const ejection =
    state.ejection === null
      ? null
      : { ...state.ejection, ejectInstances: state.ejection.ejectInstances.filter((e) => live(e.leaseExpiresAt)) };
  return { ...state, ejection, deniedCallers: state.deniedCallers.filter((c) => live(c.leaseExpiresAt)) };
}

/** The earliest lease expiry in ms, when the state changes by itself next; null if nothing is leased. */
export function nextLeaseExpiry(state: DesiredState): number | null {
  const expiries = [
    ...(state.ejection?.ejectInstances.map((e) => e.leaseExpiresAt) ?? []),
    ...state.deniedCallers.flatMap((c) => (c.leaseExpiresAt === undefined ? [] : [c.leaseExpiresAt])),
  ].map((t) => Date.parse(t));
  return expiries.length === 0 ? null : Math.min(...expiries);
}
