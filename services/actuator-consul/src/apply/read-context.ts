import type { ResolutionConfig, TargetRef } from "@meshloop/contracts";
import type { Autoscaler, CoexistenceOptions, KubeObject } from "@meshloop/actuator-kit";
import type { ConsulClient, EntryScope } from "../api/consul-client.ts";
import type { FailoverTarget, ServiceDefaults, ServiceIntentions, ServiceResolver, ServiceRouter, ServiceSplitter } from "../config-entries.ts";
import type { Caller, ConsulContext } from "../context.ts";

/** What the apply step knows beyond Consul's entries: the deployment's settings and the dependency graph. */
export interface ConsulReadOptions {
  /** Consul Enterprise namespace and partition of the target's entries; absent on Consul CE. */
  namespace?: string;
  partition?: string;
  resolution?: Pick<ResolutionConfig, "subsetTemplate">;
  versionMetaKey?: string;
  /** The services calling the target (from the dependency graph); their service-defaults are read. */
  callers?: readonly { name: string; namespace?: string; partition?: string }[];
  localityTargets?: Readonly<Record<string, FailoverTarget>>;
  /** Healthy instances of the target, when known (a per-instance rate limit is divided by it). */
  instances?: number | null;
  /** consul-k8s: the workload behind the service and the autoscalers targeting it, read from Kubernetes. */
  workload?: KubeObject | null;
  autoscalers?: readonly Autoscaler[];
  coexistence?: CoexistenceOptions;
}

/**
 * Reads every entry the translation of a target may change, each with the ModifyIndex it was read at, so that each
 * write can be a check-and-set against exactly what the translation saw. The target's Consul service is its
 * service name; its Kubernetes namespace is not a Consul namespace (that is `options.namespace`, Enterprise only).
 */
export async function readConsulContext(client: ConsulClient, target: TargetRef, options: ConsulReadOptions & { nowMs: number }): Promise<ConsulContext> {
  const scope: EntryScope = {
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.partition === undefined ? {} : { partition: options.partition }),
  };
  const name = target.service;
  const [resolver, splitter, router, intentions, serviceDefaults, proxyDefaults] = await Promise.all([
    client.getEntry<ServiceResolver>("service-resolver", name, scope),
    client.getEntry<ServiceSplitter>("service-splitter", name, scope),
    client.getEntry<ServiceRouter>("service-router", name, scope),
    client.getEntry<ServiceIntentions>("service-intentions", name, scope),
    client.getEntry<ServiceDefaults>("service-defaults", name, scope),
    // proxy-defaults live in the partition's default namespace.
    client.getEntry<{ Kind: "proxy-defaults"; Name: string; Config?: Record<string, unknown> }>("proxy-defaults", "global", options.partition === undefined ? {} : { partition: options.partition }),
  ]);
  const callers: Caller[] = await Promise.all(
    (options.callers ?? []).map(async (caller) => {
      const callerScope: EntryScope = {
        ...scope,
        ...(caller.namespace === undefined ? {} : { namespace: caller.namespace }),
        ...(caller.partition === undefined ? {} : { partition: caller.partition }),
      };
      return { ...caller, defaults: await client.getEntry<ServiceDefaults>("service-defaults", caller.name, callerScope) };
    }),
  );
  const globalProtocol = proxyDefaults?.Config?.protocol;
  const protocol = nonEmpty(serviceDefaults?.Protocol) ?? (typeof globalProtocol === "string" ? nonEmpty(globalProtocol) : null);
  return {
    nowMs: options.nowMs,
    ...(options.resolution === undefined ? {} : { resolution: options.resolution }),
    ...(options.versionMetaKey === undefined ? {} : { versionMetaKey: options.versionMetaKey }),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.partition === undefined ? {} : { partition: options.partition }),
    protocol,
    resolver,
    splitter,
    router,
    intentions,
    serviceDefaults,
    callers,
    localityTargets: options.localityTargets ?? {},
    instances: options.instances ?? null,
    workload: options.workload ?? null,
    autoscalers: options.autoscalers ?? [],
    ...(options.coexistence === undefined ? {} : { coexistence: options.coexistence }),
  };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === "" ? null : value;
}
