import { ValidationError } from "@meshloop/errors";
import { z } from "zod";
import { issue } from "./validation.ts";

/**
 * What meshloop controls: one service of one mesh. Its key `mesh/namespace/service` keys the aggregates, decisions,
 * actuations and control topics and names the state in Redis.
 */
export const MESHES = ["istio", "linkerd", "consul", "lab"] as const;
export const meshSchema = z.enum(MESHES);
export type Mesh = z.infer<typeof meshSchema>;

// DNS-like names (Kubernetes namespaces and Services, Consul services); above all no `/`, which splits the key.
const NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;
const nameSchema = z
  .string()
  .max(253)
  .regex(NAME, "must be lowercase letters, digits, '.', '_' or '-', starting and ending alphanumeric");

export const targetRefSchema = z.object({ mesh: meshSchema, namespace: nameSchema, service: nameSchema });
export type TargetRef = z.infer<typeof targetRefSchema>;

export function targetKey(ref: TargetRef): string {
  return `${ref.mesh}/${ref.namespace}/${ref.service}`;
}

export function parseTargetKey(key: string): TargetRef {
  const parts = key.split("/");
  if (parts.length !== 3) {
    throw new ValidationError(`target key "${key}" must have the form mesh/namespace/service`, { context: { key } });
  }
  const [mesh, namespace, service] = parts;
  const result = targetRefSchema.safeParse({ mesh, namespace, service });
  if (result.success) return result.data;
  const failed = result.error.issues[0]!;
  const field = String(failed.path[0]);
  const message =
    field === "mesh"
      ? `mesh "${mesh}" is not one of ${MESHES.join(", ")}`
      : `${field} "${field === "namespace" ? namespace : service}" ${failed.message}`;
  throw new ValidationError(`target key "${key}": ${message}`, { cause: result.error, context: { key } });
}

export function sameTarget(a: TargetRef, b: TargetRef): boolean {
  return a.mesh === b.mesh && a.namespace === b.namespace && a.service === b.service;
}

const SUBSET_PLACEHOLDERS = ["service", "version"] as const;
const IDENTITY_PLACEHOLDERS = ["trustDomain", "namespace", "serviceAccount", "service"] as const;

/** How telemetry (OTLP resource attributes) maps onto targets and their mesh objects, per deployment. */
export const resolutionConfigSchema = z.object({
  mesh: meshSchema,
  /** Used when a resource has no `k8s.namespace.name`. */
  defaultNamespace: nameSchema.default("default"),
  /** `service.name` -> the service's name in the mesh, where they differ. */
  serviceOverrides: z.record(z.string().min(1), nameSchema).default({}),
  /** The subset (Istio, Consul) or backend Service (Linkerd) of a version: `{version}` or `{service}-{version}`. */
  subsetTemplate: templateSchema(SUBSET_PLACEHOLDERS)
    .refine((t) => t.includes("{version}"), { error: "must contain {version}, or every version maps to one subset" })
    .default("{version}"),
  /** A caller's identity as authorization policies name it. */
  identityTemplate: templateSchema(IDENTITY_PLACEHOLDERS).default(
    "spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccount}",
  ),
  trustDomain: z.string().min(1).default("cluster.local"),
});
export type ResolutionConfig = z.output<typeof resolutionConfigSchema>;
export type ResolutionConfigInput = z.input<typeof resolutionConfigSchema>;

export type ResolveResult = { ok: true; target: TargetRef } | { ok: false; reason: string };

/**
 * The target a resource's telemetry belongs to. A result rather than a throw: unresolvable resources are ordinary
 * telemetry (an `unknown_service:node` process) that the caller counts and skips, in a hot path.
 */
export function resolveTarget(
  resourceAttributes: Readonly<Record<string, unknown>>,
  config: ResolutionConfig,
): ResolveResult {
  const serviceName = resourceAttributes["service.name"];
  if (typeof serviceName !== "string" || serviceName === "") return { ok: false, reason: "no service.name" };
  const namespaceAttr = resourceAttributes["k8s.namespace.name"];
  const namespace = typeof namespaceAttr === "string" && namespaceAttr !== "" ? namespaceAttr : config.defaultNamespace;
  const service = config.serviceOverrides[serviceName] ?? serviceName;
  const result = targetRefSchema.safeParse({ mesh: config.mesh, namespace, service });
  if (result.success) return { ok: true, target: result.data };
  const failed = result.error.issues[0]!;
  const field = String(failed.path[0]);
  const reason = `${field} of service.name "${serviceName}" ${failed.message} (add a serviceOverrides entry)`;
  return { ok: false, reason };
}

/**
 * The subset or backend name of a version, made a DNS-1123 label because Istio subset names and Kubernetes Service
 * names must be one: lowercase, other characters become `-`, at most 63 characters (`1.2.3` -> `1-2-3`).
 */
export function subsetFor(version: string, service: string, config: Pick<ResolutionConfig, "subsetTemplate">): string {
  const raw = renderTemplate(config.subsetTemplate, { service, version });
  const label = raw.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 63).replace(/^-+|-+$/g, "");
  if (label === "") {
    throw new ValidationError(`version "${version}" gives no usable subset name`, { context: { version, service } });
  }
  return label;
}

/** A caller's identity; the service account defaults to the service name, the usual one-account-per-service layout. */
export function callerIdentity(
  caller: { service: string; namespace: string; serviceAccount?: string },
  config: Pick<ResolutionConfig, "identityTemplate" | "trustDomain">,
): string {
  return renderTemplate(config.identityTemplate, {
    trustDomain: config.trustDomain,
    namespace: caller.namespace,
    serviceAccount: caller.serviceAccount ?? caller.service,
    service: caller.service,
  });
}

function templateSchema(allowed: readonly string[]) {
  const names = allowed.map((a) => `{${a}}`).join(", ");
  return z.string().min(1).superRefine((template, ctx) => {
    for (const [, name] of template.matchAll(/\{([^}]*)\}/g)) {
      if (!allowed.includes(name!)) issue(ctx, `unknown placeholder {${name}} (allowed: ${names})`);
    }
  });
}

function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^}]*)\}/g, (whole, name: string) => values[name] ?? whole);
}
