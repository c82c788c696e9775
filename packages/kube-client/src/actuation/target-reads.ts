import type { KubeClient, KubeObjectLike } from "../client.ts";

/** A Kubernetes Service as the actuators read it. */
export interface ServiceObject extends KubeObjectLike {
  spec?: { selector?: Record<string, string>; ports?: { name?: string; port: number; targetPort?: number | string }[] };
}

interface WorkloadObject extends KubeObjectLike {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> } } };
}

interface EndpointSlice extends KubeObjectLike {
  endpoints?: { conditions?: { ready?: boolean } }[];
}

/** What every Kubernetes actuator reads about a target besides its mesh's own objects. */
export interface TargetReads {
  readonly service: ServiceObject | null;
  /** The Service's `spec.selector`; null for a Service without one (or no Service). */
  readonly selector: Record<string, string> | null;
  /** Ready endpoints over the Service's EndpointSlices; null when there are no slices to count. */
  readonly endpoints: number | null;
  /**
   * The Deployment or StatefulSet behind the Service, for replicas: the one named like the Service, else the only one
   * whose pods the selector selects. Null when none or several (versions in separate Deployments): scaling then
   * names no workload and the translation says so.
   */
  readonly workload: KubeObjectLike | null;
  /** HPAs and KEDA ScaledObjects in the namespace (types the cluster does not serve read as none). */
  readonly autoscalers: readonly KubeObjectLike[];
}

export async function readTarget(kube: KubeClient, namespace: string, name: string): Promise<TargetReads> {
  const [service, slices, deployments, statefulSets, hpas, scaledObjects] = await Promise.all([
    kube.get<ServiceObject>({ apiVersion: "v1", kind: "Service", namespace, name }),
    kube.list<EndpointSlice>({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice" }, namespace, { labelSelector: `kubernetes.io/service-name=${name}` }),
    kube.list<WorkloadObject>({ apiVersion: "apps/v1", kind: "Deployment" }, namespace),
    kube.list<WorkloadObject>({ apiVersion: "apps/v1", kind: "StatefulSet" }, namespace),
    kube.list({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" }, namespace),
    kube.list({ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject" }, namespace),
  ]);
  const selector = service?.spec?.selector ?? null;
  const endpoints = slices.length === 0 ? null : slices.reduce((n, s) => n + (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length, 0);
  const workloads = [...deployments, ...statefulSets];
  const named = workloads.find((w) => w.metadata?.name === name);
  const selected = selector === null ? [] : workloads.filter((w) => selects(selector, w.spec?.template?.metadata?.labels ?? {}));
  const workload = named ?? (selected.length === 1 ? selected[0]! : null);
  return { service, selector, endpoints, workload, autoscalers: [...hpas, ...scaledObjects] };
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}
