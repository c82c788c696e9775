import { duration, pct, quantileName } from "../format.ts";
import { policySchema } from "./schema.ts";

// Settings holding durations (milliseconds once parsed), shown as durations.
const DURATION_KEY = /(cooldown|interval|Time|Timeout|timeout)$/;

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
