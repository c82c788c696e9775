import { capabilityOf, meshSchema } from "@meshloop/contracts";
import type { CapabilityPart } from "@meshloop/contracts";
import { z } from "zod";

/**
 * Policy files: which targets a policy selects and how its controllers and guardrails are set. Every setting has a
 * default (defaults.ts lists them in one table), so the smallest useful policy is a selector and `enabled: true`.
 * Objects are strict: a misspelt key is an error naming the keys allowed there, not a silently ignored setting.
 * Durations are whole milliseconds or strings like `250ms`, `30s`, `5m`, `1h`; values are milliseconds after parsing.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function durationMs(min = 0) {
  const message = `must be a duration like 250ms, 30s, 5m or 1h (or whole milliseconds), at least ${min} ms`;
  return z
    .union([z.int().min(0, message), z.string().regex(DURATION, message)], { error: message })
    .transform((value) => {
      if (typeof value === "number") return value;
      const [, amount, unit] = DURATION.exec(value)!;
      return Math.round(Number(amount) * UNIT_MS[unit!]!);
    })
    .refine((ms) => ms >= min, { error: message });
}

/** A strict object whose unknown keys are reported with the keys that are allowed. */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? `unknown key${iss.keys.length > 1 ? "s" : ""} ${iss.keys.map((k) => `"${k}"`).join(", ")} (allowed: ${allowed})`
        : undefined,
  });
}

const ratio = (max = 1) => z.number().min(0).max(max);
const NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;

export const selectorSchema = strict({
  mesh: meshSchema.optional(),
  namespace: z.string().regex(NAME, "must be a DNS-like name").optional(),
  service: z.string().regex(NAME, "must be a DNS-like name").optional(),
  /** All must match the target's labels (as the service's Kubernetes labels or Consul meta give them). */
  labels: z.record(z.string().min(1), z.string()).optional(),
});

export const quantileToleranceSchema = strict({
  quantile: z.number().gt(0).lt(1),
  tolerance: ratio(10),
});

export const canaryPolicySchema = strict({
  enabled: z.boolean().default(false),
  /** Canary traffic percent per step; the last must be 100, which is promotion. */
  steps: z
    .array(z.int().min(1).max(100))
    .min(1)
    .default([5, 10, 25, 50, 100])
    .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]!), { error: "steps must increase strictly" })
    .refine((s) => s[s.length - 1] === 100, { error: "the last step must be 100 (promotion)" }),
  /** Canary requests a step must have served before it is judged. */
  minRequestsPerStep: z.int().min(1).default(500),
  /** Consecutive passing windows, once the volume is there, to take the next step. */
  passingWindows: z.int().min(1).default(3),
  /** Probability of a false rollback of a healthy canary over its whole run, all metrics and looks together. */
  alpha: z.number().gt(0).max(0.2).default(0.02),
  /** How much higher the canary's error rate may be than the baseline's (0.25 = 25%) before it counts as worse. */
  errorTolerance: ratio(10).default(0.25),
  latency: z
    .array(quantileToleranceSchema)
    .default([
      { quantile: 0.99, tolerance: 0.25 },
      { quantile: 0.5, tolerance: 0.15 },
    ]),
  /** Requests each version needs before a quantile is compared (more for extreme quantiles: 5 beyond it). */
  minLatencyCount: z.int().min(1).default(100),
  /** Allowed gap between the observed canary share and the commanded weight, relative to the weight (0.2 = 20%), on
   *  top of 3 binomial sigmas. */
  shareTolerance: ratio(1).default(0.2),
  /** Above this error rate the baseline itself is failing: the canary is not blamed and the step holds. */
  baselineFailingErrorRate: z.number().gt(0).max(1).default(0.05),
  /** Without usable data for this long after a change took effect, the canary is rolled back. */
  noDataTimeout: durationMs(1000).default(300_000),
});

export const ejectionPolicySchema = strict({
  enabled: z.boolean().default(false),
  consecutive5xx: z.int().min(1).default(5),
  /** Envoy's detection interval, published to the proxies; meshloop itself judges per window. */
  interval: durationMs(1000).default(10_000),
  baseEjectionTime: durationMs(1000).default(30_000),
  maxEjectionTime: durationMs(1000).default(300_000),
  maxEjectionPercent: z.number().min(0).max(100).default(10),
  successRateMinimumHosts: z.int().min(2).default(5),
  successRateRequestVolume: z.int().min(1).default(100),
  successRateStdevFactor: z.number().gt(0).default(1.9),
  /** Windows a restored instance is watched (half-open) before its ejection count starts to decay. */
  probeWindows: z.int().min(1).default(1),
});

export const retriesPolicySchema = strict({
  enabled: z.boolean().default(false),
  attempts: z.int().min(1).max(10).default(2),
  perTryTimeout: durationMs(1).nullable().default(null),
  /** Linkerd's budget: retries at most this percent of requests, plus minRetriesPerSecond. */
  budgetPercent: z.number().min(0).max(100).default(20),
  minRetriesPerSecond: z.number().min(0).default(10),
  /** Turn retries on above this error rate (transient failures only). */
  enableAboveErrorRate: ratio().default(0.001),
  /** Saturated: p50 above (1 + this) x its EWMA while the request rate is above its EWMA. */
  saturationLatencyIncrease: ratio(10).default(0.5),
  /** EWMA weight of the newest window. */
  ewmaAlpha: z.number().gt(0).max(1).default(0.2),
});

export const scalingPolicySchema = strict({
  enabled: z.boolean().default(false),
  /** An autoscaler (HPA, KEDA) owns the replica count: counts are published as recommendations, never applied. */
  ownedByAutoscaler: z.boolean().default(false),
  /** Target mean CPU utilization of the instances (1 = 100% of their request); null: not a scaling metric. */
  targetCpuUtilization: z.number().gt(0).max(10).nullable().default(0.7),
  /** Target requests per second per instance; null: not a scaling metric. */
  targetRequestsPerReplica: z.number().gt(0).nullable().default(null),
  /** No change while observed / target is within 1 ± this. */
  tolerance: ratio().default(0.1),
  minReplicas: z.int().min(1).default(1),
  maxReplicas: z.int().min(1).default(100),
  /** A scale-down uses the highest recommendation over this long. */
  scaleDownStabilization: durationMs().default(300_000),
  /** Per scale-up period, at most this percent more replicas or scaleUpReplicas more, whichever is larger. */
  scaleUpPercent: z.number().min(0).default(100),
  scaleUpReplicas: z.int().min(0).default(4),
  scaleUpPeriod: durationMs(1000).default(15_000),
}).refine((s) => s.minReplicas <= s.maxReplicas, { error: "minReplicas must not be above maxReplicas", path: ["minReplicas"] });

export const failoverPolicySchema = strict({
  enabled: z.boolean().default(false),
  /** Localities judged as `region/zone` or as `region`. */
  level: z.enum(["zone", "region"]).default("zone"),
  /** A locality below this success rate (with enough volume, while another is healthy) is failing. */
  minSuccessRate: ratio().default(0.95),
  /** Traffic goes back once the locality is at or above this success rate again (hysteresis). */
  restoreSuccessRate: ratio().default(0.99),
  /** Requests a locality needs in a window to be judged. */
  minRequests: z.int().min(1).default(100),
  /** Consecutive failing windows before traffic is shifted away. */
  unhealthyWindows: z.int().min(1).default(2),
  /** Consecutive healthy windows (with volume) before traffic goes back. */
  recoveryWindows: z.int().min(1).default(6),
  /** Without evidence of recovery, traffic goes back (half-open) after this, times consecutive failovers, capped. */
  holdTime: durationMs(1000).default(300_000),
  maxHoldTime: durationMs(1000).default(1_800_000),
});

export const backpressurePolicySchema = strict({
  enabled: z.boolean().default(false),
  /** At most one change of connection limits per this long: each change rebuilds the proxies' connection pools. */
  interval: durationMs(1000).default(60_000),
  /** Saturated when the p50 is above (1 + buffer) x the minimum p50 observed (Envoy's gradient buffer 25%). */
  buffer: ratio(10).default(0.25),
  /** Consecutive saturated windows before limits are lowered. */
  saturatedWindows: z.int().min(1).default(3),
  /** Consecutive recovered windows (p50 under (1 + buffer / 2) x the minimum) before limits are raised. */
  recoveredWindows: z.int().min(1).default(3),
  minLimit: z.int().min(1).default(3),
  maxLimit: z.int().min(1).default(1024),
  /** Requests a window needs for its latency to count. */
  minRequests: z.int().min(1).default(100),
  /** The minimum p50 is taken over this long. */
  minRttHorizon: durationMs(60_000).default(1_800_000),
  /** Without saturation for this long, the limits are handed back to the mesh's own settings. */
  leaseTime: durationMs(60_000).default(600_000),
}).refine((s) => s.minLimit <= s.maxLimit, { error: "minLimit must not be above maxLimit", path: ["minLimit"] });

export const routingPolicySchema = strict({
  enabled: z.boolean().default(false),
  /** Weight of the newest window in each version's EWMA of error rate and p50 latency. */
  ewmaAlpha: z.number().gt(0).max(1).default(0.3),
  /** Most weight points moved per decision. */
  maxStep: z.int().min(1).max(50).default(10),
  /** No version goes below this weight while it serves (it keeps the evidence coming). */
  minWeight: z.int().min(0).max(50).default(5),
  /** No change while every target weight is within this many points of the current one. */
  deadBand: z.int().min(0).max(50).default(5),
  /** Requests a version needs in a window for the window to count in its EWMAs. */
  minRequests: z.int().min(1).default(50),
  /** Score of a version = 1 / (p50 ms x (1 + errorPenalty x error rate)); weights follow the scores. */
  errorPenalty: z.number().min(0).default(20),
});

export const securityPolicySchema = strict({
  enabled: z.boolean().default(false),
  /** `propose`: decisions wait for `meshloop approve`; `enforce`: denials are applied at once. */
  mode: z.enum(["propose", "enforce"]).default("propose"),
  /** A sensitive service treats any never-seen caller (after the learning period) as an incident. */
  sensitive: z.boolean().default(false),
  /** After meshloop first watches the target, callers are learned, not judged, for this long. */
  learningPeriod: durationMs(0).default(86_400_000),
  /** 401/403 answers to one caller in a window, at least this many and this share of its requests, are a spike... */
  minAuthFailures: z.int().min(1).default(20),
  authFailureShare: ratio().default(0.5),
  /** ...and at least this many times the caller's usual share (its EWMA). */
  authFailureSpikeFactor: z.number().min(1).default(3),
  /** A caller's request rate this many robust standard deviations over its EWMA is an anomaly. */
  rateZScore: z.number().gt(0).default(6),
  /** Rates below this (requests per second) are never anomalies. */
  minAnomalousRate: z.number().min(0).default(5),
  /** Windows of a caller's history before its rate is judged. */
  baselineWindows: z.int().min(1).default(12),
  ewmaAlpha: z.number().gt(0).max(1).default(0.1),
  /** A denial lasts this long unless renewed; then the caller is allowed again. */
  denyLeaseTime: durationMs(60_000).default(3_600_000),
  /** For caller identities: the mesh's trust domain (SPIFFE ids spiffe://<trustDomain>/ns/<namespace>/sa/<service>). */
  trustDomain: z.string().min(1).default("cluster.local"),
});

export const guardrailPolicySchema = strict({
  /** Least time between two actions on a target; the loop's measured dead time raises it further. */
  cooldown: durationMs().default(30_000),
  maxActionsPerMinute: z.int().min(1).default(4),
  /** Decisions are computed and published with dryRun: true and never applied. */
  dryRun: z.boolean().default(false),
});

export const policySchema = strict({
  name: z.string().min(1),
  selector: selectorSchema.default({}),
  guardrails: guardrailPolicySchema.default(guardrailPolicySchema.parse({})),
  canary: canaryPolicySchema.default(canaryPolicySchema.parse({})),
  ejection: ejectionPolicySchema.default(ejectionPolicySchema.parse({})),
  retries: retriesPolicySchema.default(retriesPolicySchema.parse({})),
  scaling: scalingPolicySchema.default(scalingPolicySchema.parse({})),
  failover: failoverPolicySchema.default(failoverPolicySchema.parse({})),
  backpressure: backpressurePolicySchema.default(backpressurePolicySchema.parse({})),
  routing: routingPolicySchema.default(routingPolicySchema.parse({})),
  security: securityPolicySchema.default(securityPolicySchema.parse({})),
});

export const policyFileSchema = strict({
  policies: z.array(policySchema).min(1),
}).superRefine((file, ctx) => {
  const seen = new Map<string, number>();
  file.policies.forEach((p, i) => {
    const first = seen.get(p.name);
    if (first !== undefined) {
      ctx.addIssue({ code: "custom", message: `name "${p.name}" is used by policies[${first}] already`, path: ["policies", i, "name"] });
    }
    seen.set(p.name, i);
    // A policy for one mesh must not ask it for what it cannot do: refused at load, not discovered at actuation.
    const mesh = p.selector.mesh;
    if (mesh === undefined) return;
    for (const [section, part] of NEEDS) {
      if (!p[section].enabled) continue;
      const capability = capabilityOf(mesh, part);
      if (capability.support === "unsupported") {
        ctx.addIssue({ code: "custom", message: `${mesh} cannot carry out ${section}: ${capability.reason}`, path: ["policies", i, section, "enabled"] });
      }
    }
  });
});

// The capability each controller cannot work without.
const NEEDS: readonly (readonly ["canary" | "ejection" | "retries" | "scaling" | "failover" | "backpressure" | "routing" | "security", CapabilityPart])[] = [
  ["canary", "weights"],
  ["routing", "weights"],
  ["ejection", "ejectionTuning"],
  ["retries", "retries"],
  ["scaling", "replicas"],
  ["failover", "localityFailover"],
  ["backpressure", "connectionLimits"],
  ["security", "denyCaller"],
];

export type Selector = z.output<typeof selectorSchema>;
export type QuantileToleranceSetting = z.output<typeof quantileToleranceSchema>;
export type CanaryPolicy = z.output<typeof canaryPolicySchema>;
export type EjectionPolicy = z.output<typeof ejectionPolicySchema>;
export type RetriesPolicy = z.output<typeof retriesPolicySchema>;
export type ScalingPolicy = z.output<typeof scalingPolicySchema>;
export type FailoverPolicy = z.output<typeof failoverPolicySchema>;
export type BackpressurePolicy = z.output<typeof backpressurePolicySchema>;
export type RoutingPolicy = z.output<typeof routingPolicySchema>;
export type SecurityPolicy = z.output<typeof securityPolicySchema>;
export type GuardrailPolicy = z.output<typeof guardrailPolicySchema>;
export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type PolicyFile = z.output<typeof policyFileSchema>;
