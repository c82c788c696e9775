import { FIELD_MANAGER, MANAGED_BY_LABEL, MESHLOOP } from "./kube.ts";
import type { ObjectMeta, ObjectRef } from "./kube.ts";

/**
 * Who else manages an object. Two controllers writing the same fields fight forever (each reverts the other), and a
 * GitOps tool reverts any change not made in Git, so before acting meshloop looks for the marks other controllers
 * leave, in owner references, labels, annotations and managed fields, and refuses with a reason naming the evidence.
 */
export const FOREIGN_CONTROLLERS = ["flagger", "argo-rollouts", "argo-cd", "flux", "autoscaler", "other"] as const;
export type ForeignControllerKind = (typeof FOREIGN_CONTROLLERS)[number];

export interface ForeignController {
  controller: ForeignControllerKind;
  /** The mark found, e.g. `annotation argocd.argoproj.io/tracking-id`. */
  evidence: string;
  reason: string;
}

export interface CoexistenceOptions {
  /** Controllers the operators arranged to share with (e.g. Argo CD told to ignore these fields). */
  allow?: readonly ForeignControllerKind[];
  /** Extra labels that mean "tracked by Argo CD", e.g. `app.kubernetes.io/instance` under label tracking. */
  argoCdLabelKeys?: readonly string[];
}

const NAMES: Record<ForeignControllerKind, string> = {
  flagger: "Flagger",
  "argo-rollouts": "Argo Rollouts",
  "argo-cd": "Argo CD",
  flux: "Flux",
  autoscaler: "an autoscaler",
  other: "another controller",
};

// Field managers of controllers that reconcile continuously; people's tools (kubectl, Helm) are not among them.
const MANAGERS: Record<string, ForeignControllerKind> = {
  flagger: "flagger",
  "argo-rollouts": "argo-rollouts",
  "rollouts-controller": "argo-rollouts",
  "argocd-controller": "argo-cd",
  "argocd-application-controller": "argo-cd",
  "kustomize-controller": "flux",
  "helm-controller": "flux",
  "keda-operator": "autoscaler",
};

// One-shot installers label what they install but do not revert later changes.
const INSTALLERS = new Set(["helm", "tiller"]);

/** The first sign of another controller on this object, or null when meshloop may act on it. */
export function findOtherController(metadata: ObjectMeta | undefined, options: CoexistenceOptions = {}): ForeignController | null {
  const found = scan(metadata ?? {}, options).find((f) => !(options.allow ?? []).includes(f.controller));
  return found ?? null;
}

function scan(metadata: ObjectMeta, options: CoexistenceOptions): ForeignController[] {
  const out: ForeignController[] = [];
  const add = (controller: ForeignControllerKind, evidence: string) => out.push({ controller, evidence, reason: reasonFor(controller, evidence) });

  for (const owner of metadata.ownerReferences ?? []) {
    const group = owner.apiVersion.split("/")[0] ?? "";
    const evidence = `ownerReference ${owner.kind} ${owner.name} (${owner.apiVersion})`;
    if (group === "flagger.app") add("flagger", evidence);
    else if (group === "argoproj.io") add(owner.kind === "Rollout" ? "argo-rollouts" : "argo-cd", evidence);
    else if (group.endsWith("toolkit.fluxcd.io")) add("flux", evidence);
    else if (owner.controller === true) add("other", evidence);
  }

  const labels = metadata.labels ?? {};
  const annotations = metadata.annotations ?? {};
  const managedBy = labels[MANAGED_BY_LABEL];
  if (managedBy !== undefined && managedBy !== MESHLOOP && !INSTALLERS.has(managedBy.toLowerCase())) {
    add(MANAGERS[managedBy.toLowerCase()] ?? "other", `label ${MANAGED_BY_LABEL}=${managedBy}`);
  }
  for (const key of ["argocd.argoproj.io/instance", ...(options.argoCdLabelKeys ?? [])]) {
    if (labels[key] !== undefined) add("argo-cd", `label ${key}=${labels[key]}`);
  }
  for (const key of ["kustomize.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/name"]) {
    if (labels[key] !== undefined) add("flux", `label ${key}=${labels[key]}`);
  }
  for (const key of Object.keys(annotations).sort()) {
    if (key === "argocd.argoproj.io/tracking-id") add("argo-cd", `annotation ${key}`);
    else if (key.startsWith("argo-rollouts.argoproj.io/")) add("argo-rollouts", `annotation ${key}`);
    else if (key.startsWith("flagger.app/") || key.startsWith("flagger.kubernetes.io/")) add("flagger", `annotation ${key}`);
  }

  for (const entry of metadata.managedFields ?? []) {
    const manager = entry.manager ?? "";
    if (manager === FIELD_MANAGER) continue;
    const kind = MANAGERS[manager];
    if (kind !== undefined) add(kind, `field manager ${manager}`);
    // The HPA controller writes replicas through the scale subresource as kube-controller-manager.
    else if (entry.subresource === "scale") add("autoscaler", `field manager ${manager} on the scale subresource`);
  }
  return out;
}

function reasonFor(controller: ForeignControllerKind, evidence: string): string {
  const who = NAMES[controller];
  const advice =
    controller === "argo-cd" || controller === "flux"
      ? "change it in Git, or make the GitOps tool ignore meshloop's fields and allow it in meshloop's coexistence settings"
      : "meshloop does not fight another controller over the same fields";
  return `managed by ${who} (${evidence}); ${advice}`;
}

/** A HorizontalPodAutoscaler or KEDA ScaledObject, as read from the cluster. */
export interface Autoscaler {
  apiVersion: string;
  kind: string;
  metadata?: ObjectMeta;
  spec?: { scaleTargetRef?: { apiVersion?: string; kind?: string; name: string } };
}

/** The autoscaler that owns a workload's replica count, or null. KEDA's target kind defaults to Deployment. */
export function findAutoscaler(workload: ObjectRef, autoscalers: readonly Autoscaler[]): ForeignController | null {
  for (const scaler of autoscalers) {
    const ref = scaler.spec?.scaleTargetRef;
    if (ref === undefined || ref.name !== workload.name) continue;
    if ((scaler.metadata?.namespace ?? workload.namespace) !== workload.namespace) continue;
    if ((ref.kind ?? "Deployment") !== workload.kind) continue;
    const evidence = `${scaler.kind} ${scaler.metadata?.name ?? "?"} targets ${workload.kind} ${workload.name}`;
    return { controller: "autoscaler", evidence, reason: `the replica count belongs to an autoscaler (${evidence}); published as a recommendation` };
  }
  return null;
}
