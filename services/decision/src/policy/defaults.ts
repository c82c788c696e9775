import { duration, pct, quantileName } from "../format.ts";
import { policySchema } from "./schema.ts";

// Settings holding durations (milliseconds once parsed), shown as durations.
const DURATION_KEY = /(cooldown|interval|Time|Timeout|timeout|Stabilization|Period|Horizon)$/;

/**
 * The defaults of every policy setting in one table, with where they come from; docs render it and a test checks
 * that it matches the schema's own defaults, so it cannot drift.
 */
export interface DefaultRow {
  /** Path in a policy, e.g. `canary.steps`. */
  readonly setting: string;
  readonly default: string;
  readonly meaning: string;
  readonly source: string;
}

const ROWS: readonly Omit<DefaultRow, "default">[] = [
  { setting: "guardrails.cooldown", meaning: "least time between two actions on a target (raised to the loop's measured dead time)", source: "meshloop" },
  { setting: "guardrails.maxActionsPerMinute", meaning: "actions per target per minute", source: "meshloop" },
  { setting: "guardrails.dryRun", meaning: "publish decisions flagged dryRun, never applied", source: "meshloop" },
  { setting: "canary.enabled", meaning: "progressive canary for new versions", source: "meshloop" },
  { setting: "canary.steps", meaning: "canary traffic percent per step; 100 is promotion", source: "Flagger/Argo practice" },
  { setting: "canary.minRequestsPerStep", meaning: "canary requests a step needs before it is judged", source: "meshloop (p99 needs ~500)" },
  { setting: "canary.passingWindows", meaning: "consecutive passing windows to take the next step", source: "meshloop" },
  { setting: "canary.alpha", meaning: "false-rollback probability of a healthy canary, all metrics and looks", source: "Kayenta's 0.98 confidence, made anytime-valid" },
  { setting: "canary.errorTolerance", meaning: "relative excess of the canary's error rate over the baseline's that counts as worse", source: "Kayenta's ±25% tolerance" },
  { setting: "canary.latency", meaning: "quantiles compared with the baseline and their relative tolerance", source: "Flagger (p99), meshloop (p50)" },
  { setting: "canary.minLatencyCount", meaning: "requests per version before a quantile is compared (more for extreme quantiles)", source: "Spinnaker: 50+ points" },
  { setting: "canary.shareTolerance", meaning: "allowed gap between observed and commanded canary share, relative to it, plus 3 binomial sigmas", source: "meshloop" },
  { setting: "canary.baselineFailingErrorRate", meaning: "baseline error rate above which the canary is not blamed and the step holds", source: "meshloop" },
  { setting: "canary.noDataTimeout", meaning: "rollback after this long without usable data", source: "meshloop" },
  { setting: "ejection.enabled", meaning: "outlier ejection per instance", source: "meshloop" },
  { setting: "ejection.consecutive5xx", meaning: "failures in a row that eject", source: "Envoy consecutive_5xx" },
  { setting: "ejection.interval", meaning: "detection interval published to the proxies", source: "Envoy interval" },
  { setting: "ejection.baseEjectionTime", meaning: "ejection time, times consecutive ejections", source: "Envoy base_ejection_time" },
  { setting: "ejection.maxEjectionTime", meaning: "cap of the ejection time", source: "Envoy max_ejection_time" },
  { setting: "ejection.maxEjectionPercent", meaning: "most instances ejected at once (at least one)", source: "Envoy max_ejection_percent" },
  { setting: "ejection.successRateMinimumHosts", meaning: "instances with volume the success-rate rule needs", source: "Envoy success_rate_minimum_hosts" },
  { setting: "ejection.successRateRequestVolume", meaning: "requests an instance needs to count in the success-rate rule", source: "Envoy success_rate_request_volume" },
  { setting: "ejection.successRateStdevFactor", meaning: "k in mean − k × stdev", source: "Envoy success_rate_stdev_factor (1900/1000)" },
  { setting: "ejection.probeWindows", meaning: "half-open windows after an ejection ends", source: "meshloop" },
  { setting: "retries.enabled", meaning: "adaptive retries of transient failures", source: "meshloop" },
  { setting: "retries.attempts", meaning: "retry attempts when on", source: "Istio default 2" },
  { setting: "retries.perTryTimeout", meaning: "per-try timeout (null: the request timeout)", source: "meshloop" },
  { setting: "retries.budgetPercent", meaning: "retries at most this share of requests", source: "Linkerd retry budget 20%" },
  { setting: "retries.minRetriesPerSecond", meaning: "plus this many retries per second", source: "Linkerd retry budget 10/s" },
  { setting: "retries.enableAboveErrorRate", meaning: "error rate above which retries are turned on", source: "meshloop" },
  { setting: "retries.saturationLatencyIncrease", meaning: "p50 rise over its EWMA, with rising load, that means saturation", source: "meshloop" },
  { setting: "retries.ewmaAlpha", meaning: "weight of the newest window in the EWMAs", source: "meshloop" },
  { setting: "scaling.enabled", meaning: "replica recommendations from load", source: "meshloop" },
  { setting: "scaling.ownedByAutoscaler", meaning: "an autoscaler owns the replica count: publish recommendations (mode recommend), never apply", source: "meshloop" },
  { setting: "scaling.targetCpuUtilization", meaning: "target mean CPU utilization per instance (null: not used)", source: "meshloop" },
  { setting: "scaling.targetRequestsPerReplica", meaning: "target requests per second per instance (null: not used)", source: "meshloop" },
  { setting: "scaling.tolerance", meaning: "no change while observed / target is within 1 ± this", source: "Kubernetes HPA 0.1" },
  { setting: "scaling.minReplicas", meaning: "fewest replicas recommended", source: "Kubernetes HPA" },
  { setting: "scaling.maxReplicas", meaning: "most replicas recommended", source: "meshloop" },
  { setting: "scaling.scaleDownStabilization", meaning: "a scale-down uses the highest recommendation over this long", source: "Kubernetes HPA 300 s" },
  { setting: "scaling.scaleUpPercent", meaning: "per scale-up period at most this percent more replicas…", source: "Kubernetes HPA 100%" },
  { setting: "scaling.scaleUpReplicas", meaning: "…or this many more, whichever is larger", source: "Kubernetes HPA 4 pods" },
  { setting: "scaling.scaleUpPeriod", meaning: "the period of the scale-up limit", source: "Kubernetes HPA 15 s" },
  { setting: "failover.enabled", meaning: "shift traffic away from a failing locality", source: "meshloop" },
  { setting: "failover.level", meaning: "localities judged as region/zone or region", source: "meshloop" },
  { setting: "failover.minSuccessRate", meaning: "a locality below this success rate, while another is healthy, is failing", source: "meshloop" },
  { setting: "failover.restoreSuccessRate", meaning: "success rate at which traffic goes back (hysteresis)", source: "meshloop" },
  { setting: "failover.minRequests", meaning: "requests a locality needs in a window to be judged", source: "meshloop" },
  { setting: "failover.unhealthyWindows", meaning: "consecutive failing windows before traffic is shifted", source: "meshloop" },
  { setting: "failover.recoveryWindows", meaning: "consecutive healthy windows before traffic goes back", source: "meshloop" },
  { setting: "failover.holdTime", meaning: "without evidence, traffic goes back (half-open) after this, times consecutive failovers", source: "meshloop (as Envoy's ejection time)" },
  { setting: "failover.maxHoldTime", meaning: "cap of the hold time", source: "meshloop" },
  { setting: "backpressure.enabled", meaning: "adaptive connection limits on saturation", source: "meshloop" },
  { setting: "backpressure.interval", meaning: "at most one change of connection limits per target in this time", source: "meshloop (pools are rebuilt on each change)" },
  { setting: "backpressure.buffer", meaning: "saturated when p50 > (1 + buffer) × minimum p50; gradient = (1 + buffer) × min / sample", source: "Envoy adaptive concurrency 25%" },
  { setting: "backpressure.saturatedWindows", meaning: "consecutive saturated windows before limits are lowered", source: "meshloop" },
  { setting: "backpressure.recoveredWindows", meaning: "consecutive windows under (1 + buffer / 2) × minimum before limits are raised", source: "meshloop" },
  { setting: "backpressure.minLimit", meaning: "lowest connection/request limit", source: "Envoy adaptive concurrency min 3" },
  { setting: "backpressure.maxLimit", meaning: "highest limit; reaching it hands the limits back to the mesh", source: "Envoy circuit breakers 1024" },
  { setting: "backpressure.minRequests", meaning: "requests a window needs for its latency to count", source: "meshloop" },
  { setting: "backpressure.minRttHorizon", meaning: "the minimum p50 is taken over this long", source: "meshloop" },
  { setting: "backpressure.leaseTime", meaning: "limits are handed back after this long without saturation", source: "meshloop" },
  { setting: "routing.enabled", meaning: "weights across versions follow their latency and errors (off while a canary runs)", source: "meshloop" },
  { setting: "routing.ewmaAlpha", meaning: "weight of the newest window in each version's EWMAs", source: "meshloop" },
  { setting: "routing.maxStep", meaning: "most weight points moved per decision", source: "meshloop" },
  { setting: "routing.minWeight", meaning: "weight floor of every serving version", source: "meshloop" },
  { setting: "routing.deadBand", meaning: "no change while every weight is within this many points of its target", source: "meshloop" },
  { setting: "routing.minRequests", meaning: "requests a version needs in a window for it to count", source: "meshloop" },
  { setting: "routing.errorPenalty", meaning: "score = 1 / (p50 × (1 + this × error rate))", source: "meshloop" },
  { setting: "security.enabled", meaning: "deny callers on never-seen, 401/403-spike or rate-anomaly evidence", source: "meshloop" },
  { setting: "security.mode", meaning: "propose (wait for meshloop approve) or enforce", source: "meshloop" },
  { setting: "security.sensitive", meaning: "a never-seen caller of this service is an incident", source: "meshloop" },
  { setting: "security.learningPeriod", meaning: "callers are learned, not judged, this long after meshloop first watches the target", source: "meshloop" },
  { setting: "security.minAuthFailures", meaning: "401/403 answers to one caller in a window for a spike…", source: "meshloop" },
  { setting: "security.authFailureShare", meaning: "…and their least share of its requests…", source: "meshloop" },
  { setting: "security.authFailureSpikeFactor", meaning: "…and their least ratio to the caller's usual share", source: "meshloop" },
  { setting: "security.rateZScore", meaning: "robust z-score of a caller's rate over its EWMA that is an anomaly", source: "meshloop" },
  { setting: "security.minAnomalousRate", meaning: "requests per second below which a rate is never an anomaly", source: "meshloop" },
  { setting: "security.baselineWindows", meaning: "windows of a caller's history before its rate is judged", source: "meshloop" },
  { setting: "security.ewmaAlpha", meaning: "weight of the newest window in the callers' baselines", source: "meshloop" },
  { setting: "security.denyLeaseTime", meaning: "a denial ends after this unless renewed", source: "meshloop" },
  { setting: "security.trustDomain", meaning: "trust domain of the callers' SPIFFE identities", source: "Istio default" },
];

export function policyDefaults(): DefaultRow[] {
  const defaults = policySchema.parse({ name: "defaults" }) as unknown as Record<string, Record<string, unknown>>;
  return ROWS.map((row) => {
    const [section, key] = row.setting.split(".") as [string, string];
    const value = defaults[section]?.[key];
    return { ...row, default: DURATION_KEY.test(key) && typeof value === "number" ? duration(value) : render(value) };
  });
}

/** The defaults table as Markdown, for the docs. */
export function policyDefaultsMarkdown(): string {
  const lines = ["| setting | default | meaning | source |", "| --- | --- | --- | --- |"];
  for (const r of policyDefaults()) lines.push(`| \`${r.setting}\` | ${r.default} | ${r.meaning} | ${r.source} |`);
  return lines.join("\n");
}

function render(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v === "object" && v !== null && "quantile" in v)) {
    return (value as { quantile: number; tolerance: number }[]).map((q) => `${quantileName(q.quantile)} ±${pct(q.tolerance)}`).join(", ");
  }
  return JSON.stringify(value);
}
