import { actuatorService, GitopsApplier, gitopsCommitAuthor, KubeApplier, kubeClientOptions } from "@meshloop/actuator-runtime";
import type { MeshApplier } from "@meshloop/actuator-runtime";
import { KubeClient } from "@meshloop/kube-client";
import type { Bus } from "@meshloop/bus";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import type { IstioContext } from "../context.ts";
import { readIstioContext } from "../read-context.ts";
import { translateIstio } from "../translate/translate.ts";
import type { IstioActuatorConfig } from "./config.ts";

/**
 * What the translation knows of a cluster it cannot read: nothing but the time. In GitOps mode meshloop writes its
 * own objects whole (a VirtualService and DestinationRule per target, labelled as meshloop's), for a repository
 * that holds the mesh configuration; merging into objects users own needs the API path.
 */
function unreadCluster(nowMs: number): IstioContext {
  return {
    nowMs,
    workloadSelector: null,
    endpoints: null,
    virtualService: null,
    destinationRule: null,
    authorizationPolicy: null,
    envoyFilter: null,
    workload: null,
    autoscalers: [],
  };
}

/** The API path: read the cluster, translate, write with server-side apply or resourceVersion-checked updates. */
function apiApplier(config: IstioActuatorConfig): { applier: MeshApplier; kube: KubeClient } {
  const kube = new KubeClient(kubeClientOptions(config));
  const read = { clusterDomain: config.MESHLOOP_CLUSTER_DOMAIN, ...(config.MESHLOOP_ISTIO_VERSION === undefined ? {} : { istioVersion: config.MESHLOOP_ISTIO_VERSION }) };
  const applier = new KubeApplier<IstioContext>({ mesh: "istio", kube, read: (target, client, nowMs) => readIstioContext(client, target, nowMs, read), translate: translateIstio });
  return { applier, kube };
}

/** The Istio actuator: decisions for Istio targets in, Istio resources out (API or GitOps files), results on actuations. */
export function createIstioActuatorService(context: ServiceContext<IstioActuatorConfig>, shared?: { bus?: Bus; store?: StateStore }): Service {
  const { config } = context;
  const directory = config.MESHLOOP_ACTUATOR_GITOPS_DIR;
  const commit = gitopsCommitAuthor(config, directory);
  const api = directory === undefined ? apiApplier(config) : null;
  const applier =
    api?.applier ??
    new GitopsApplier({ mesh: "istio", directory: directory!, commit, translate: (desired, nowMs) => translateIstio(desired, unreadCluster(nowMs)) });
  // The API server answering a read is what the API path needs; a discovery call is the cheapest.
  if (api !== null) context.ops.addReadinessCheck("kubernetes", () => api.kube.ready());
  const output = directory === undefined ? { output: "kubernetes-api" } : { output: "gitops", directory, commit: commit !== null };
  return actuatorService(context, { name: "actuator-istio", applier, shared, output });
}
