import { pruneExpiredLeases, subsetFor, unsupportedParts } from "@meshloop/contracts";
import type { CapabilityPart, DesiredState } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import { ejectionSettings, translateReplicas } from "@meshloop/actuator-kit";
import { isOwnedEntry } from "../config-entries.ts";
import type { FailoverTarget, ServiceSplitter } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { emptyTranslation } from "../translation.ts";
import type { Translation } from "../translation.ts";
import { deleteEntry, refusedByOwner, releaseEntry, writeEntry } from "./entries.ts";
import { instanceRate, mergeCallerDefaults, mergeTargetRateLimit, passiveHealthCheck, releaseCallerDefaults, restoreTargetDefaults, upstreamLimits } from "./service-defaults.ts";
import { consulServiceName, mergeIntentions, onlyMeshloops } from "./service-intentions.ts";
import { failoverTargets, mergeResolver, releaseResolver } from "./service-resolver.ts";
import { mergeRouter, restoreRouter } from "./service-router.ts";
import { mergeSplitter, restoreSplitter, splits } from "./service-splitter.ts";
import type { Weighted } from "./service-splitter.ts";

// Splitters and routers act at layer 7; Consul refuses them for a tcp service.
const L7 = new Set(["http", "http2", "grpc"]);

/**
 * A target's desired state as Consul config entries. Pure: everything it knows of Consul is in `context`, and the
 * result says for every part asked for whether it is written, unsupported, refused or failed.
 */
export function translateConsul(input: DesiredState, context: ConsulContext): Translation {
  if (input.target.mesh !== "consul") {
    throw new ValidationError(`the Consul actuator cannot translate a ${input.target.mesh} target`, { context: { mesh: input.target.mesh } });
  }
  const state = pruneExpiredLeases(input, context.nowMs);
  const out = emptyTranslation();
  for (const { part, reason } of unsupportedParts("consul", state)) out.unsupported.push({ capability: part, reason });
  const l7 = l7Parts(state, context, out);
  const weights = l7.includes("weights") ? weighted(state, context, out) : null;
  if (state.weights === null && state.failover === null) {
    // A release of the routing: the splitter first, then the resolver drops the subsets it no longer names.
    splitter(state, context, null, out);
    releaseResolverEntry(state, context, out);
  } else {
    // Make before break: the subsets exist before the splitter names them.
    const subsetsReady = resolver(state, context, weights, out);
    splitter(state, context, subsetsReady ? weights : null, out);
  }
  router(state, context, l7, out);
  callerDefaults(state, context, out);
  rateLimit(state, context, out);
  intentions(state, context, out);
  translateReplicas(state.replicas, context.workload, context.autoscalers, context.coexistence, out);
  return out;
}

/** The asked-for parts that need an L7 protocol; failed with the remedy when the target is tcp. */
function l7Parts(state: DesiredState, context: ConsulContext, out: Translation): CapabilityPart[] {
  const asked: CapabilityPart[] = [];
  if (state.weights !== null) asked.push("weights");
  if (state.retries !== null) asked.push("retries");
  if (state.requestTimeoutMs !== null) asked.push("requestTimeout");
  if (asked.length === 0 || L7.has(context.protocol ?? "tcp")) return asked;
  out.failed.push({
    capabilities: asked,
    reason: `service-splitter and service-router need an HTTP or gRPC protocol and ${state.target.service} is ${context.protocol ?? "tcp"}; set Protocol in its service-defaults (or proxy-defaults)`,
  });
  return [];
}

function weighted(state: DesiredState, context: ConsulContext, out: Translation): Weighted[] | null {
  const resolution = context.resolution ?? { subsetTemplate: "{version}" };
  const entries = Object.entries(state.weights ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const list = entries.map(([version, weight]) => ({ version, subset: subsetFor(version, state.target.service, resolution), weight }));
  const clash = list.find((w, i) => list.findIndex((o) => o.subset === w.subset) !== i);
  if (clash === undefined) return list;
  out.failed.push({ capabilities: ["weights"], reason: `two versions map to subset ${clash.subset}; change the subset template` });
  return null;
}

/** Writes the resolver; returns whether the weights' subsets exist after it. */
function resolver(state: DesiredState, context: ConsulContext, weights: Weighted[] | null, out: Translation): boolean {
  let failover: FailoverTarget[] | null = null;
  if (state.failover !== null) {
    const mapped = failoverTargets(state.failover, context.localityTargets);
    if ("reason" in mapped) out.unsupported.push({ capability: "localityFailover", reason: mapped.reason });
    else {
      failover = mapped.targets;
      out.warnings.push(`Consul applies a resolver's failover wherever the service is resolved, not only from ${state.failover.fromLocality}`);
    }
  }
  const capabilities: CapabilityPart[] = [...(weights === null ? [] : ["weights" as const]), ...(failover === null ? [] : ["localityFailover" as const])];
  const existing = context.resolver;
  if (capabilities.length === 0) {
    if (existing !== null && isOwnedEntry(existing)) {
      const merged = mergeResolver(existing, state.target.service, context, { subsets: [], failover: null });
      // Subsets may still be named by the splitter; only a resolver left with nothing at all goes.
      if (merged.ok && merged.entry.Subsets === undefined && merged.entry.Failover === undefined) deleteEntry(out, existing);
      else if (merged.ok) writeEntry(out, existing, merged.entry);
    }
    return true;
  }
  if (refusedByOwner(out, existing, capabilities)) return false;
  const merged = mergeResolver(existing, state.target.service, context, { subsets: (weights ?? []).map((w) => ({ name: w.subset, version: w.version })), failover });
  if (!merged.ok) {
    out.failed.push({ capabilities, reason: `service-resolver ${state.target.service}: ${merged.reason}` });
    return false;
  }
  out.warnings.push(...merged.warnings);
  writeEntry(out, existing, merged.entry);
  return true;
}

/** The resolver once nothing routes by weight or fails over: keeps only the subsets the splitter (as written now) names. */
function releaseResolverEntry(state: DesiredState, context: ConsulContext, out: Translation): void {
  const existing = context.resolver;
  if (existing === null) return;
  const inUse = new Set<string>();
  for (const split of splitterAfter(out, context)?.Splits ?? []) {
    if (split.ServiceSubset !== undefined && (split.Service ?? state.target.service) === state.target.service) inUse.add(split.ServiceSubset);
  }
  releaseEntry(out, existing, releaseResolver(existing, inUse));
}

/** The target's splitter as this translation leaves it: the one it writes, none if it deletes it, else as read. */
function splitterAfter(out: Translation, context: ConsulContext): ServiceSplitter | null {
  for (const w of out.resources) {
    if (w.action === "write" && w.entry.Kind === "service-splitter") return w.entry;
    if (w.action === "delete" && w.ref.kind === "service-splitter") return null;
  }
  return context.splitter;
}

function splitter(state: DesiredState, context: ConsulContext, weights: Weighted[] | null, out: Translation): void {
  const existing = context.splitter;
  if (weights === null) {
    if (state.weights !== null || existing === null) return;
    if (isOwnedEntry(existing)) deleteEntry(out, existing);
    else releaseEntry(out, existing, restoreSplitter(existing));
    return;
  }
  if (refusedByOwner(out, existing, ["weights"])) return;
  const merged = mergeSplitter(existing, state.target.service, context, splits(weights));
  if (!merged.ok) {
    out.failed.push({ capabilities: ["weights"], reason: `service-splitter ${state.target.service}: ${merged.reason}` });
    return;
  }
  out.warnings.push(...merged.warnings);
  writeEntry(out, existing, merged.entry);
}

function router(state: DesiredState, context: ConsulContext, l7: readonly CapabilityPart[], out: Translation): void {
  const existing = context.router;
  const capabilities = l7.filter((p) => p === "retries" || p === "requestTimeout");
  if (capabilities.length === 0) {
    if (state.retries !== null || state.requestTimeoutMs !== null || existing === null) return;
    if (isOwnedEntry(existing)) deleteEntry(out, existing);
    else releaseEntry(out, existing, restoreRouter(existing));
    return;
  }
  if (refusedByOwner(out, existing, capabilities)) return;
  const result = mergeRouter(existing, state.target.service, context, { retries: state.retries, timeoutMs: state.requestTimeoutMs });
  if (!result.ok) {
    out.failed.push({ capabilities, reason: `service-router ${state.target.service}: ${result.reason}` });
    return;
  }
  out.warnings.push(...result.warnings);
  writeEntry(out, existing, result.entry);
}

function callerDefaults(state: DesiredState, context: ConsulContext, out: Translation): void {
  const capabilities: CapabilityPart[] = [];
  if (state.connectionLimits !== null) capabilities.push("connectionLimits");
  if (state.ejection !== null) capabilities.push("ejectionTuning");
  if (capabilities.length === 0) {
    // Released: meshloop's override goes from each known caller's service-defaults (a user's as found).
    const target = { target: state.target.service, ...scopeOf(context) };
    for (const caller of context.callers) if (caller.defaults !== null) releaseEntry(out, caller.defaults, releaseCallerDefaults(caller.defaults, target));
    return;
  }
  if (context.callers.length === 0) {
    for (const capability of capabilities) {
      out.unsupported.push({ capability, reason: "no caller of the target is known, and Consul keeps these settings in each caller's service-defaults" });
    }
    return;
  }
  const settings = state.ejection === null ? null : ejectionSettings(state.ejection, context.instances);
  if (settings !== null) out.warnings.push(...settings.tightened);
  if (state.connectionLimits !== null) out.warnings.push("Consul has no limit on concurrent retries; maxRetries is not applied");
  const plan = {
    target: state.target.service,
    ...scopeOf(context),
    limits: state.connectionLimits === null ? null : upstreamLimits(state.connectionLimits),
    passiveHealthCheck: settings === null ? null : passiveHealthCheck(settings),
  };
  for (const caller of [...context.callers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (refusedByOwner(out, caller.defaults, capabilities)) continue;
    const merged = mergeCallerDefaults(caller.defaults, caller, plan);
    if (merged.ok) writeEntry(out, caller.defaults, merged.entry);
    else out.failed.push({ capabilities, reason: `service-defaults ${caller.name}: ${merged.reason}` });
  }
}

function rateLimit(state: DesiredState, context: ConsulContext, out: Translation): void {
  const existing = context.serviceDefaults;
  if (state.rateLimit === null) {
    // meshloop's own service-defaults for the target exists only for the rate limit; a user's gets its own back.
    if (existing !== null && isOwnedEntry(existing)) deleteEntry(out, existing);
    else if (existing !== null) releaseEntry(out, existing, restoreTargetDefaults(existing));
    return;
  }
  if (refusedByOwner(out, existing, ["rateLimit"])) return;
  if (context.instances === null) out.warnings.push("the number of instances is unknown: each instance allows the service's whole rate");
  const rate = instanceRate(state.rateLimit.requestsPerSecond, context.instances);
  if (Math.abs(rate.effective - state.rateLimit.requestsPerSecond) > 0.01 * state.rateLimit.requestsPerSecond) {
    out.warnings.push(`whole requests per instance give ${rate.effective} requests/s in all, not ${state.rateLimit.requestsPerSecond}`);
  }
  const merged = mergeTargetRateLimit(existing, state.target.service, context, rate.perInstance);
  if (merged.ok) writeEntry(out, existing, merged.entry);
  else out.failed.push({ capabilities: ["rateLimit"], reason: `service-defaults ${state.target.service}: ${merged.reason}` });
}

function intentions(state: DesiredState, context: ConsulContext, out: Translation): void {
  const existing = context.intentions;
  const denied: { caller: DesiredState["deniedCallers"][number]; service: string }[] = [];
  for (const caller of state.deniedCallers) {
    const service = consulServiceName(caller);
    if (service === null) out.unsupported.push({ capability: "denyCaller", reason: `${caller.identity} names no Consul service (give the caller's service, or a Consul SPIFFE id)` });
    else denied.push({ caller, service });
  }
  if (denied.length === 0 && (existing === null || !Object.keys(existing.Meta ?? {}).some((k) => k.startsWith("meshloop-denied-")))) return;
  if (refusedByOwner(out, existing, ["denyCaller"])) return;
  const { entry, blocked } = mergeIntentions(existing, state.target.service, context, denied);
  for (const b of blocked) out.unsupported.push({ capability: "denyCaller", reason: `${b.identity}: ${b.reason}` });
  if (existing !== null && isOwnedEntry(existing) && onlyMeshloops(entry)) deleteEntry(out, existing);
  else if (existing !== null || (entry.Sources ?? []).length > 0) writeEntry(out, existing, entry);
}

/** The Enterprise namespace and partition of the target's entries, where set. */
function scopeOf(context: ConsulContext): { namespace?: string; partition?: string } {
  return {
    ...(context.namespace === undefined ? {} : { namespace: context.namespace }),
    ...(context.partition === undefined ? {} : { partition: context.partition }),
  };
}
