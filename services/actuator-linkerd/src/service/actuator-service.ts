import { actuatorService, GitopsApplier, gitopsCommitAuthor, KubeApplier, kubeClientOptions } from "@meshloop/actuator-runtime";
import type { MeshApplier } from "@meshloop/actuator-runtime";
import type { Bus } from "@meshloop/bus";
import { subsetFor } from "@meshloop/contracts";
import type { DesiredState } from "@meshloop/contracts";
import { KubeClient } from "@meshloop/kube-client";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import type { LinkerdContext } from "../context.ts";
import { readLinkerdContext } from "../read-context.ts";
import { translateLinkerd } from "../translate/translate.ts";
import type { LinkerdActuatorConfig } from "./config.ts";

// Named in the GitOps translation's failure, so that the operator sees what to set rather than a Service to fix.
const GITOPS_PORT_VARIABLE = "MESHLOOP_LINKERD_GITOPS_SERVICE_PORT";

/**
 * What the translation knows of a cluster it cannot read, for GitOps output: the time, the port routes attach to
 * (from the configuration), and that the versions' backend Services exist and serve on that same port, since the
 * repository holding the mesh configuration is where they would be checked. Nothing of the users' objects is known,
 * so meshloop writes only its own: an HTTPRoute per target, and the Service's annotations as a patch of the user's
 * manifest.
 */
export function gitopsContext(desired: DesiredState, nowMs: number, port: number | undefined, trustDomain?: string): LinkerdContext {
  const { namespace, service } = desired.target;
  const backends = Object.keys(desired.weights ?? {}).map((version) => subsetFor(version, service, { subsetTemplate: "{service}-{version}" }));
  return {
    nowMs,
    ...(trustDomain === undefined ? {} : { trustDomain }),
    service: { apiVersion: "v1", kind: "Service", metadata: { name: service, namespace }, ...(port === undefined ? {} : { spec: { ports: [{ port }] } }) },
    ...(port === undefined ? { missingPort: `${GITOPS_PORT_VARIABLE} is not set: GitOps output does not read the cluster, so the port meshloop's HTTPRoutes attach to must be configured` } : {}),
    backendServices: backends,
    backendPorts: Object.fromEntries(backends.map((name) => [name, port === undefined ? [] : [{ port }]])),
    httpRoutes: [],
    serviceProfile: null,
    server: null,
    authorizationPolicies: [],
    meshTLSAuthentications: [],
    rateLimitPolicy: null,
    allowListFromObservedCallers: false,
    observedCallers: [],
    workloadSelector: null,
    targetPort: null,
    endpoints: null,
    workload: null,
    autoscalers: [],
  };
}

/** The API path: read the cluster, translate, write with server-side apply or resourceVersion-checked updates. */
function apiApplier(config: LinkerdActuatorConfig): { applier: MeshApplier; kube: KubeClient } {
  const kube = new KubeClient(kubeClientOptions(config));
  const options = {
    clusterDomain: config.MESHLOOP_CLUSTER_DOMAIN,
    trustDomain: config.MESHLOOP_LINKERD_TRUST_DOMAIN,
    allowListFromObservedCallers: config.MESHLOOP_LINKERD_ALLOW_LIST_FROM_OBSERVED_CALLERS,
  };
  const applier = new KubeApplier<LinkerdContext>({ mesh: "linkerd", kube, read: (target, client, nowMs) => readLinkerdContext(client, target, nowMs, options), translate: translateLinkerd });
  return { applier, kube };
}

/** The Linkerd actuator: decisions for Linkerd targets in, Linkerd resources out (API or GitOps files), results on actuations. */
export function createLinkerdActuatorService(context: ServiceContext<LinkerdActuatorConfig>, shared?: { bus?: Bus; store?: StateStore }): Service {
  const { config } = context;
  const directory = config.MESHLOOP_ACTUATOR_GITOPS_DIR;
  const commit = gitopsCommitAuthor(config, directory);
  const api = directory === undefined ? apiApplier(config) : null;
  const port = config.MESHLOOP_LINKERD_GITOPS_SERVICE_PORT;
  const applier =
    api?.applier ??
    new GitopsApplier({
      mesh: "linkerd",
      directory: directory!,
      commit,
      translate: (desired, nowMs) => translateLinkerd(desired, gitopsContext(desired, nowMs, port, config.MESHLOOP_LINKERD_TRUST_DOMAIN)),
    });
  // The API path needs the API server answering; `/version` is the cheapest call every identity may make.
  if (api !== null) context.ops.addReadinessCheck("kubernetes", () => api.kube.ready());
  const output = directory === undefined ? { output: "kubernetes-api" } : { output: "gitops", directory, commit: commit !== null };
  return actuatorService(context, { name: "actuator-linkerd", applier, shared, output });
}
