import { pruneExpiredLeases, subsetFor, unsupportedParts } from "@meshloop/contracts";
import type { CapabilityPart, DesiredState } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import { ejectionSettings, emptyTranslation, findOtherController, formatDuration, isOwnedByMeshloop, refOf, translateReplicas } from "@meshloop/actuator-kit";
import type { Translation } from "@meshloop/actuator-kit";
import type { LinkerdContext } from "../context.ts";
import type { ServicePort } from "../linkerd-objects.ts";
import { validateHttpRoute } from "../validate.ts";
import { appliedBefore, failureAccrualAnnotations, hasOwnRetryAnnotations, REQUEST_TIMEOUT, retryAnnotations, serviceAnnotationsPatch } from "./annotations.ts";
import { translateAuthorization } from "./authorization.ts";
import { chooseRoute, mergeHttpRoute, newHttpRoute, recordRuleMerge, releaseHttpRoutes } from "./http-route.ts";
import type { Backend } from "./http-route.ts";
import { backendPort, describePort, withBackendPorts } from "./backend-ports.ts";
import { proxyRate, rateLimitPolicy } from "./rate-limit.ts";

// The parts a ServiceProfile silences: Linkerd's proxies then ignore HTTPRoutes and these annotations.
const OUTBOUND: readonly CapabilityPart[] = ["weights", "retries", "requestTimeout", "ejectionTuning"];

/**
 * A target's desired state as Linkerd resources. Pure: everything it knows of the cluster is in `context`, and the
 * result says for every part asked for whether it is written, unsupported, refused or failed.
 */
export function translateLinkerd(input: DesiredState, context: LinkerdContext): Translation {
  if (input.target.mesh !== "linkerd") {
    throw new ValidationError(`the Linkerd actuator cannot translate a ${input.target.mesh} target`, { context: { mesh: input.target.mesh } });
  }
  const state = pruneExpiredLeases(input, context.nowMs);
  const out = emptyTranslation();
  const unsupported = unsupportedParts("linkerd", state);
  for (const { part, reason } of unsupported) out.unsupported.push({ capability: part, reason });
  const asked: Record<string, boolean> = { weights: state.weights !== null, retries: state.retries !== null, requestTimeout: state.requestTimeoutMs !== null, ejectionTuning: state.ejection !== null };
  const silenced = OUTBOUND.filter((p) => asked[p]);
  if (context.serviceProfile !== null && silenced.length > 0) {
    const name = `${context.serviceProfile.metadata?.namespace}/${context.serviceProfile.metadata?.name}`;
    out.failed.push({
      capabilities: silenced,
      reason: `ServiceProfile ${name} exists for the Service: Linkerd's proxies then ignore HTTPRoutes and the retry, timeout and failure-accrual annotations; remove it (moving its routes to HTTPRoutes) for meshloop to act`,
    });
  } else {
    httpRoute(state, context, out);
    serviceAnnotations(state, context, out);
  }
  rateLimit(state, context, out);
  translateAuthorization(state, context, out);
  translateReplicas(state.replicas, context.workload, context.autoscalers, context.coexistence, out);
  return out;
}

function httpRoute(state: DesiredState, context: LinkerdContext, out: Translation): void {
  const target = state.target;
  const choice = chooseRoute(context.httpRoutes, target);
  const owned = context.httpRoutes.filter((r) => isOwnedByMeshloop(r.metadata));
  if (state.weights === null) {
    for (const route of owned) out.resources.push({ action: "delete", ref: refOf(route) });
    releaseHttpRoutes(context.httpRoutes, context.coexistence, out);
    return;
  }
  const ports = context.service.spec?.ports ?? [];
  const port = context.port ?? ports[0]?.port;
  if (port === undefined) {
    out.failed.push({ capabilities: ["weights"], reason: context.missingPort ?? `Service ${target.namespace}/${target.service} has no port for a route to attach to` });
    return;
  }
  const resolved = backendsFor(state, context, ports.find((p) => p.port === port) ?? { port }, out);
  if (resolved === null) return;
  const { backends, backendPorts } = resolved;
  if (choice.kind === "conflict") {
    out.failed.push({ capabilities: ["weights"], reason: `HTTPRoute ${choice.route.metadata?.namespace}/${choice.route.metadata?.name}: ${choice.reason}`, ref: refOf(choice.route) });
    return;
  }
  if (choice.kind === "merge") {
    const other = findOtherController(choice.route.metadata, context.coexistence);
    if (other !== null) {
      out.refused.push({ ref: refOf(choice.route), capabilities: ["weights"], reason: other.reason });
      return;
    }
    // Recorded for a release once final: the record's digest is of the backends as written, ports and all.
    const merged = recordRuleMerge(choice.route, withBackendPorts(mergeHttpRoute(choice.route, choice.rule, port, backends), choice.rule, backendPorts), choice.rule);
    if (!merged.ok) {
      out.failed.push({ capabilities: ["weights"], reason: merged.reason, ref: refOf(choice.route) });
      return;
    }
    if (!routeIsValid(merged.route, out)) return;
    out.resources.push({ action: "update", object: merged.route });
    // Of two catch-all rules only the older route's applies: meshloop's own goes once the user's carries the weights
    // (not before: while the user's route cannot be written, meshloop's keeps the split as it was).
    for (const route of owned) out.resources.push({ action: "delete", ref: refOf(route) });
    return;
  }
  const route = withBackendPorts(newHttpRoute(target, port, backends), 0, backendPorts);
  if (routeIsValid(route, out)) out.resources.push({ action: "apply", object: route });
}

/**
 * One backend Service per version, each on its own port matching the target's; sending traffic to one that does not
 * exist, or on a port it does not have, would fail that share of requests.
 */
function backendsFor(state: DesiredState, context: LinkerdContext, targetPort: ServicePort, out: Translation): { backends: Backend[]; backendPorts: Map<string, number> } | null {
  const resolution = context.resolution ?? { subsetTemplate: "{service}-{version}" };
  const entries = Object.entries(state.weights ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const backends = entries.map(([version, weight]) => ({ name: subsetFor(version, state.target.service, resolution), weight }));
  const missing = backends.filter((b) => !context.backendServices.includes(b.name));
  const needed = missing.filter((b) => b.weight > 0);
  if (needed.length > 0) {
    out.failed.push({ capabilities: ["weights"], reason: `backend Service ${needed.map((b) => b.name).join(", ")} does not exist in ${state.target.namespace}` });
    return null;
  }
  const backendPorts = new Map<string, number>();
  const portless: Backend[] = [];
  for (const b of backends.filter((x) => !missing.includes(x))) {
    const port = backendPort(targetPort, context.backendPorts[b.name] ?? []);
    if (port === null) portless.push(b);
    else backendPorts.set(b.name, port);
  }
  const unreachable = portless.filter((b) => b.weight > 0);
  if (unreachable.length > 0) {
    const which = unreachable.map((b) => b.name).join(", ");
    out.failed.push({ capabilities: ["weights"], reason: `backend Service ${which} has no port matching ${state.target.service}'s port ${describePort(targetPort)}: none with its name, targetPort or number` });
    return null;
  }
  // A backend without traffic that cannot be named is left out: a route naming a missing Service or port is not accepted.
  return { backends: backends.filter((b) => backendPorts.has(b.name)), backendPorts };
}

function routeIsValid(route: Parameters<typeof validateHttpRoute>[0], out: Translation): boolean {
  const problem = validateHttpRoute(route);
  if (problem === null) return true;
  const ref = { kind: "HTTPRoute", name: route.metadata?.name ?? "", namespace: route.metadata?.namespace ?? "" };
  out.failed.push({ capabilities: ["weights"], reason: `HTTPRoute ${ref.namespace}/${ref.name} does not pass the Gateway API schema: ${problem}`, ref });
  return false;
}

function serviceAnnotations(state: DesiredState, context: LinkerdContext, out: Translation): void {
  const annotations: Record<string, string> = {};
  const capabilities: CapabilityPart[] = [];
  if (state.retries !== null) {
    const { annotations: retry, dropped } = retryAnnotations(state.retries);
    if (state.retries.attempts > 0 && retry["retry.linkerd.io/http"] === undefined && retry["retry.linkerd.io/grpc"] === undefined) {
      out.unsupported.push({ capability: "retries", reason: `Linkerd has no retry condition for ${dropped.join(", ") || "an empty condition list"}` });
    } else {
      Object.assign(annotations, retry);
      capabilities.push("retries");
      if (dropped.length > 0) out.warnings.push(`Linkerd has no retry condition for ${dropped.join(", ")}; retried on the others`);
    }
  }
  if (state.requestTimeoutMs !== null) {
    annotations[REQUEST_TIMEOUT] = formatDuration(state.requestTimeoutMs);
    capabilities.push("requestTimeout");
  }
  if (state.ejection !== null) {
    const settings = ejectionSettings(state.ejection, context.endpoints);
    Object.assign(annotations, failureAccrualAnnotations(settings));
    capabilities.push("ejectionTuning");
    out.warnings.push(...settings.tightened, "Linkerd's failure accrual has no interval and no maximum ejection share; those settings are not applied");
  }
  const service = context.service;
  if (capabilities.length === 0 && !appliedBefore(service.metadata?.managedFields)) return;
  const other = findOtherController(service.metadata, context.coexistence);
  if (other !== null) {
    if (capabilities.length > 0) out.refused.push({ ref: refOf(service), capabilities, reason: other.reason });
    return;
  }
  out.resources.push({ action: "apply", object: serviceAnnotationsPatch(service, annotations), partial: true });
  for (const route of context.httpRoutes) {
    if (!isOwnedByMeshloop(route.metadata) && hasOwnRetryAnnotations(route.metadata?.annotations) && (capabilities.includes("retries") || capabilities.includes("requestTimeout"))) {
      out.warnings.push(`HTTPRoute ${route.metadata?.name} has its own retry or timeout annotations, which override the Service's for its traffic`);
    }
  }
}

function rateLimit(state: DesiredState, context: LinkerdContext, out: Translation): void {
  const existing = context.rateLimitPolicy;
  if (state.rateLimit === null) {
    if (existing !== null && isOwnedByMeshloop(existing.metadata)) out.resources.push({ action: "delete", ref: refOf(existing) });
    return;
  }
  if (context.server === null) {
    out.unsupported.push({ capability: "rateLimit", reason: "HTTPLocalRateLimitPolicy targets a Server and the target's pods have none; meshloop does not create one for a rate limit, as a Server switches its port to deny by default" });
    return;
  }
  if (existing !== null && !isOwnedByMeshloop(existing.metadata)) {
    out.refused.push({ ref: refOf(existing), capabilities: ["rateLimit"], reason: `the Server already has the user's HTTPLocalRateLimitPolicy ${existing.metadata?.name}` });
    return;
  }
  if (context.endpoints === null) out.warnings.push("the number of endpoints is unknown: each proxy allows the service's whole rate");
  const rate = proxyRate(state.rateLimit.requestsPerSecond, context.endpoints);
  if (Math.abs(rate.effective - state.rateLimit.requestsPerSecond) > 0.01 * state.rateLimit.requestsPerSecond) {
    out.warnings.push(`whole requests per proxy give ${rate.effective} requests/s in all, not ${state.rateLimit.requestsPerSecond}`);
  }
  out.resources.push({ action: "apply", object: rateLimitPolicy(state.target, context.server, rate.requestsPerSecond) });
}
