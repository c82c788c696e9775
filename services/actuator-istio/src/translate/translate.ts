import { pruneExpiredLeases, subsetFor, unsupportedParts } from "@meshloop/contracts";
import type { CapabilityPart, DesiredState } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { ejectionSettings, emptyTranslation, findOtherController, formatDuration, isOwnedByMeshloop, refOf, translateReplicas } from "@meshloop/actuator-kit";
import type { Translation } from "@meshloop/actuator-kit";
import type { IstioContext } from "../context.ts";
import { denyPolicy } from "./authorization-policy.ts";
import {
  connectionPool,
  isEmptyPlan,
  ISTIO_DEFAULT_OUTLIER_DETECTION,
  localityLbSetting,
  mergeDestinationRule,
  newDestinationRule,
  outlierDetection,
  restoreDestinationRule,
} from "./destination-rule.ts";
import type { PolicyPlan } from "./destination-rule.ts";
import { rateLimitFilter, tokenBucket } from "./envoy-filter.ts";
import { release, routingAfter, write } from "./writes.ts";
import { istioRetries, MESHLOOP_ROUTE, mergeVirtualService, newVirtualService, referencedSubsets, restoreVirtualService } from "./virtual-service.ts";
import type { RoutePlan } from "./virtual-service.ts";

interface Weighted {
  version: string;
  subset: string;
  weight: number;
}

/**
 * A target's desired state as Istio objects. Pure: everything it knows of the cluster is in `context`, and the
 * result says for every part asked for whether it is written, unsupported, refused or failed.
 */
export function translateIstio(input: DesiredState, context: IstioContext): Translation {
  if (input.target.mesh !== "istio") {
    throw new ValidationError(`the Istio actuator cannot translate a ${input.target.mesh} target`, { context: { mesh: input.target.mesh } });
  }
  // A lease that ran out no longer holds, even if no newer decision came to say so.
  const state = pruneExpiredLeases(input, context.nowMs);
  const out = emptyTranslation();
  for (const { part, reason } of unsupportedParts("istio", state)) out.unsupported.push({ capability: part, reason });
  const domain = context.clusterDomain ?? "cluster.local";
  const host = `${state.target.service}.${state.target.namespace}.svc.${domain}`;
  const weights = weightedSubsets(state, context, out);
  if (state.weights === null) {
    // Nothing routes by weight: the routes change first (a release puts the user's back), then the DestinationRule
    // drops the subsets they no longer name, so no request is ever routed to a subset that is gone.
    virtualService(state, context, host, domain, null, false, out);
    destinationRule(state, context, host, domain, null, routingAfter(out, context), out);
  } else {
    // Make before break: the subsets exist before the routes name them.
    const subsetsReady = destinationRule(state, context, host, domain, weights, context.virtualService, out);
    virtualService(state, context, host, domain, subsetsReady ? weights : null, weights !== null && !subsetsReady, out);
  }
  authorizationPolicy(state, context, out);
  envoyFilter(state, context, out);
  translateReplicas(state.replicas, context.workload, context.autoscalers, context.coexistence, out);
  return out;
}

function weightedSubsets(state: DesiredState, context: IstioContext, out: Translation): Weighted[] | null {
  if (state.weights === null) return null;
  const resolution = context.resolution ?? { subsetTemplate: "{version}" };
  const entries = Object.entries(state.weights).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const weighted = entries.map(([version, weight]) => ({ version, subset: subsetFor(version, state.target.service, resolution), weight }));
  const clash = weighted.find((w, i) => weighted.findIndex((o) => o.subset === w.subset) !== i);
  if (clash !== undefined) {
    out.failed.push({ capabilities: ["weights"], reason: `two versions map to subset ${clash.subset}; change the subset template` });
    return null;
  }
  return weighted;
}

/**
 * Writes the DestinationRule; returns whether the weights' subsets exist after it (false: routes must not name them).
 * `routing` is the VirtualService whose routes' subsets must stay.
 */
function destinationRule(state: DesiredState, context: IstioContext, host: string, domain: string, weights: Weighted[] | null, routing: IVirtualService | null, out: Translation): boolean {
  const versionLabel = context.versionLabel ?? "version";
  const plan: PolicyPlan = {
    host,
    subsets: (weights ?? []).map((w) => ({ name: w.subset, labels: { [versionLabel]: w.version } })),
    outlierDetection: null,
    connectionPool: state.connectionLimits === null ? null : connectionPool(state.connectionLimits),
    retryBudget: retryBudget(state, context, out),
    localityLbSetting: null,
  };
  if (state.ejection !== null) {
    const settings = ejectionSettings(state.ejection, context.endpoints);
    plan.outlierDetection = outlierDetection(settings);
    out.warnings.push(...settings.tightened);
  }
  const existing = context.destinationRule;
  if (state.failover !== null) {
    const { setting, warnings } = localityLbSetting(state.failover);
    plan.localityLbSetting = setting;
    out.warnings.push(...warnings);
    // Istio ignores locality failover without outlier detection: it is how an unhealthy locality is noticed.
    if (plan.outlierDetection === null && (existing === null || isOwnedByMeshloop(existing.metadata) || existing.spec?.trafficPolicy?.outlierDetection === undefined)) {
      plan.outlierDetection = { ...ISTIO_DEFAULT_OUTLIER_DETECTION };
      out.warnings.push("locality failover needs outlier detection; Istio's default settings are written explicitly");
    }
  }
  const capabilities = drCapabilities(state, plan);
  if (existing !== null && !isOwnedByMeshloop(existing.metadata)) {
    if (isEmptyPlan(plan)) {
      release(out, existing, restoreDestinationRule(existing, referencedSubsets(routing, state.target, domain)), context);
      return true;
    }
    const other = findOtherController(existing.metadata, context.coexistence);
    if (other !== null) {
      out.refused.push({ ref: refOf(existing), capabilities, reason: other.reason });
      return false;
    }
    const merged = mergeDestinationRule(existing, plan);
    if (!merged.ok) {
      out.failed.push({ capabilities, reason: merged.reason });
      return false;
    }
    out.warnings.push(...merged.warnings);
    return write(out, "update", merged.object, capabilities);
  }
  if (existing !== null) {
    const other = findOtherController(existing.metadata, context.coexistence);
    if (other !== null) {
      out.refused.push({ ref: refOf(existing), capabilities, reason: other.reason });
      return false;
    }
    // Subsets the current routes still send traffic to stay until a later decision stops naming them.
    const inUse = referencedSubsets(routing, state.target, domain);
    for (const subset of existing.spec?.subsets ?? []) {
      if (inUse.has(subset.name) && !plan.subsets.some((s) => s.name === subset.name)) plan.subsets.push({ name: subset.name, labels: { ...subset.labels } });
    }
  }
  if (isEmptyPlan(plan)) {
    if (existing !== null) out.resources.push({ action: "delete", ref: refOf(existing) });
    return true;
  }
  return write(out, "apply", newDestinationRule(state.target, plan), capabilities);
}

function virtualService(
  state: DesiredState,
  context: IstioContext,
  host: string,
  domain: string,
  weights: Weighted[] | null,
  weightsBlocked: boolean,
  out: Translation,
): void {
  const plan: RoutePlan = {
    host,
    weights: weights === null ? null : weights.map(({ subset, weight }) => ({ subset, weight })),
    retries: state.retries === null ? null : istioRetries(state.retries),
    timeout: state.requestTimeoutMs === null ? null : formatDuration(state.requestTimeoutMs),
  };
  const capabilities: CapabilityPart[] = [];
  if (plan.weights !== null) capabilities.push("weights");
  if (plan.retries !== null) capabilities.push("retries");
  if (plan.timeout !== null) capabilities.push("requestTimeout");
  const existing = context.virtualService;
  const owned = existing !== null && isOwnedByMeshloop(existing.metadata);
  if (capabilities.length === 0) {
    // Blocked weights leave the VirtualService as it is; nothing asked of it at all removes meshloop's, and puts a
    // user's back as meshloop found it.
    if (weightsBlocked || existing === null) return;
    if (owned) out.resources.push({ action: "delete", ref: refOf(existing) });
    else release(out, existing, restoreVirtualService(existing), context);
    return;
  }
  if (existing !== null) {
    const other = findOtherController(existing.metadata, context.coexistence);
    if (other !== null) {
      out.refused.push({ ref: refOf(existing), capabilities, reason: other.reason });
      return;
    }
  }
  if (existing !== null && !owned) {
    const merged = mergeVirtualService(existing, state.target, plan, domain);
    if (!merged.ok) out.failed.push({ capabilities, reason: `VirtualService ${existing.metadata?.namespace}/${existing.metadata?.name}: ${merged.reason}` });
    else write(out, "update", merged.object, capabilities);
    return;
  }
  const object = newVirtualService(state.target, plan);
  if (weightsBlocked && existing !== null) keepRouting(object, existing);
  write(out, "apply", object, capabilities);
}

// Weights that cannot be written this time leave the split as it was rather than spreading traffic evenly.
function keepRouting(object: IVirtualService, previous: IVirtualService): void {
  const before = previous.spec?.http?.find((r) => r.name === MESHLOOP_ROUTE)?.route;
  const route = object.spec?.http?.[0];
  if (before !== undefined && route !== undefined) route.route = structuredClone(before);
}

function authorizationPolicy(state: DesiredState, context: IstioContext, out: Translation): void {
  const existing = context.authorizationPolicy;
  if (state.deniedCallers.length === 0) {
    if (existing !== null && isOwnedByMeshloop(existing.metadata)) out.resources.push({ action: "delete", ref: refOf(existing) });
    return;
  }
  if (context.workloadSelector === null) {
    out.unsupported.push({ capability: "denyCaller", reason: "the target Service has no selector, so no AuthorizationPolicy can select its pods" });
    return;
  }
  if (existing !== null && !isOwnedByMeshloop(existing.metadata)) {
    out.refused.push({ ref: refOf(existing), capabilities: ["denyCaller"], reason: "an AuthorizationPolicy not labelled as meshloop's already has meshloop's name" });
    return;
  }
  if (context.mtlsStrict !== true) {
    out.warnings.push("mTLS is not known to be STRICT for the target: a DENY by principal does not stop callers that connect in plaintext");
  }
  write(out, "apply", denyPolicy(state.target, state.deniedCallers, context.workloadSelector), ["denyCaller"]);
}

function envoyFilter(state: DesiredState, context: IstioContext, out: Translation): void {
  const existing = context.envoyFilter;
  if (state.rateLimit === null) {
    if (existing !== null && isOwnedByMeshloop(existing.metadata)) out.resources.push({ action: "delete", ref: refOf(existing) });
    return;
  }
  if (context.workloadSelector === null) {
    out.unsupported.push({ capability: "rateLimit", reason: "the target Service has no selector, so no EnvoyFilter can select its sidecars" });
    return;
  }
  if (existing !== null && !isOwnedByMeshloop(existing.metadata)) {
    out.refused.push({ ref: refOf(existing), capabilities: ["rateLimit"], reason: "an EnvoyFilter not labelled as meshloop's already has meshloop's name" });
    return;
  }
  const endpoints = context.endpoints ?? 1;
  if (context.endpoints === null) out.warnings.push("the number of endpoints is unknown: each sidecar allows the service's whole rate");
  const perProxy = state.rateLimit.requestsPerSecond / Math.max(1, endpoints);
  const bucket = tokenBucket(perProxy);
  const effective = ((bucket.tokensPerFill * 1000) / bucket.fillIntervalMs) * Math.max(1, endpoints);
  if (Math.abs(effective - state.rateLimit.requestsPerSecond) > 0.01 * state.rateLimit.requestsPerSecond) {
    out.warnings.push(`whole tokens per sidecar give ${round(effective)} requests/s in all, not ${state.rateLimit.requestsPerSecond}`);
  }
  write(out, "apply", rateLimitFilter(state.target, bucket, context.workloadSelector), ["rateLimit"]);
}

function retryBudget(state: DesiredState, context: IstioContext, out: Translation): PolicyPlan["retryBudget"] {
  const budget = state.retries?.budget ?? null;
  if (state.retries === null || budget === null) return null;
  if (!supportsRetryBudget(context.istioVersion)) {
    out.unsupported.push({ capability: "retryBudget", reason: `Istio ${context.istioVersion} has no trafficPolicy.retryBudget (added in 1.27)` });
    return null;
  }
  // Istio's floor is concurrent retries, meshloop's a rate: by Little's law, rate times how long a try may last.
  const tryMs = state.retries.perTryTimeoutMs ?? state.requestTimeoutMs ?? 1000;
  const minRetryConcurrency = Math.max(1, Math.ceil((budget.minRetriesPerSecond * tryMs) / 1000));
  out.warnings.push(`retry budget floor ${budget.minRetriesPerSecond}/s written as ${minRetryConcurrency} concurrent retries (tries last up to ${tryMs}ms)`);
  return { percent: budget.percent, minRetryConcurrency };
}

export function supportsRetryBudget(version: string | undefined): boolean {
  if (version === undefined) return true;
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  if (match === null) return true;
  const major = Number(match[1]);
  return major > 1 || (major === 1 && Number(match[2]) >= 27);
}

function drCapabilities(state: DesiredState, plan: PolicyPlan): CapabilityPart[] {
  const out: CapabilityPart[] = [];
  if (state.weights !== null) out.push("weights");
  if (plan.connectionPool !== null) out.push("connectionLimits");
  if (state.ejection !== null) out.push("ejectionTuning");
  if (plan.retryBudget !== null) out.push("retryBudget");
  if (plan.localityLbSetting !== null) out.push("localityFailover");
  return out;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
