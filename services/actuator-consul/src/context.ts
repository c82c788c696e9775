import type { ResolutionConfig } from "@meshloop/contracts";
import type { Autoscaler, CoexistenceOptions, KubeObject } from "@meshloop/actuator-kit";
import type { FailoverTarget, ServiceDefaults, ServiceIntentions, ServiceResolver, ServiceRouter, ServiceSplitter } from "./config-entries.ts";

/** A service that calls the target, with its own service-defaults (where Consul keeps limits for its upstreams). */
export interface Caller {
  name: string;
  namespace?: string;
  partition?: string;
  defaults: ServiceDefaults | null;
}

/**
 * What the Consul actuator read before translating (`GET /v1/config/:kind/:name`, each with its ModifyIndex). The
 * translation is a pure function of the desired state and this.
 */
export interface ConsulContext {
  /** Wall-clock time of the translation, for leases. */
  nowMs: number;
  /** How versions name subsets; default `{version}`. */
  resolution?: Pick<ResolutionConfig, "subsetTemplate">;
  /** The service-instance Meta key that carries the version; default `version`. */
  versionMetaKey?: string;
  /** Consul Enterprise namespace and partition of the target's entries; absent on Consul CE. */
  namespace?: string;
  partition?: string;
  /** The target's effective protocol (its service-defaults, else proxy-defaults); null when neither sets one (tcp). */
  protocol: string | null;
  resolver: ServiceResolver | null;
  splitter: ServiceSplitter | null;
  router: ServiceRouter | null;
  intentions: ServiceIntentions | null;
  /** The target's own service-defaults (rate limits live there). */
  serviceDefaults: ServiceDefaults | null;
  /** The services calling the target, from the dependency graph. */
  callers: readonly Caller[];
  /** Where each locality (`region`, `region/zone`) fails over to in Consul's terms: a datacenter, peer or partition. */
  localityTargets: Readonly<Record<string, FailoverTarget>>;
  /** Healthy instances of the target: a per-instance rate limit is the service's divided by it. Null when unknown. */
  instances: number | null;
  /** With consul-k8s, the Deployment or StatefulSet behind the service, for replicas; null elsewhere. */
  workload: KubeObject | null;
  autoscalers: readonly Autoscaler[];
  coexistence?: CoexistenceOptions;
}
