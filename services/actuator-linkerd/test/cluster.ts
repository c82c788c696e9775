// A Linkerd target as a cluster holds it, seeded into the kube emulator: the tests start from it and add objects.
import { emptyDesiredState } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import type { KubeEmulator } from "@meshloop/kube-emulator";

export const HTTP_ROUTE = "gateway.networking.k8s.io/v1";
export const POLICY = "policy.linkerd.io/v1alpha1";
export const SERVER = "policy.linkerd.io/v1beta3";

let namespaces = 0;

/** A namespace no other test uses, so each test starts from its own cluster state. */
export function freshNamespace(prefix = "shop"): string {
  namespaces += 1;
  return `${prefix}-${namespaces}`;
}

/**
 * Seeds `checkout` in the namespace: its Service (port 80 to the pods' named port `http`), the versions' Services
 * checkout-v1 and checkout-v2, a Deployment whose pods carry app=checkout and expose `http` as 8080, and an
 * EndpointSlice with two ready endpoints and one not ready.
 */
export function seedTarget(emulator: KubeEmulator, namespace: string): TargetRef {
  emulator.seed({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "checkout", namespace, labels: { app: "checkout" } },
    spec: { selector: { app: "checkout" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  });
  for (const version of ["v1", "v2"]) {
    emulator.seed({ apiVersion: "v1", kind: "Service", metadata: { name: `checkout-${version}`, namespace }, spec: { selector: { app: "checkout", version }, ports: [{ port: 80 }] } });
  }
  emulator.seed({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "checkout", namespace },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "checkout" } },
      template: { metadata: { labels: { app: "checkout", tier: "web" } }, spec: { containers: [{ name: "app", image: "checkout:1", ports: [{ name: "http", containerPort: 8080 }] }] } },
    },
  });
  emulator.seed({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "checkout-abc", namespace, labels: { "kubernetes.io/service-name": "checkout" } },
    endpoints: [{ conditions: { ready: true } }, { conditions: { ready: true } }, { conditions: { ready: false } }],
  });
  return { mesh: "linkerd", namespace, service: "checkout" };
}

/** A user's Server for the target's pods on the named port, whose default denies callers no policy admits. */
export function seedServer(emulator: KubeEmulator, namespace: string, name = "checkout-http", port: number | string = "http"): void {
  emulator.seed({ apiVersion: SERVER, kind: "Server", metadata: { name, namespace }, spec: { podSelector: { matchLabels: { app: "checkout" } }, port, accessPolicy: "deny" } });
}

export function desired(target: TargetRef, parts: Partial<Omit<DesiredState, "target">> = {}): DesiredState {
  return { ...emptyDesiredState(target), ...parts };
}

export function decisionFor(target: TargetRef, generation: number, parts: Partial<Omit<DesiredState, "target">> = {}): Decision {
  return {
    decisionId: `${target.mesh}/${target.namespace}/${target.service}@${generation}`,
    target,
    generation,
    desiredState: desired(target, parts),
    controllers: ["canary"],
    reason: "test decision",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: generation,
    createdAt: new Date().toISOString(),
  };
}

export const RETRIES = { attempts: 3, perTryTimeoutMs: 250, retryOn: ["5xx" as const, "retriable-status-codes" as const, "unavailable" as const], retriableStatusCodes: [503], budget: null };

/** The fields of a stored object the tests look at. */
export interface Stored {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string>; managedFields?: { manager: string; operation: string }[] };
  spec: Record<string, unknown>;
}

export interface StoredRoute extends Stored {
  spec: { parentRefs: { group?: string; kind?: string; name: string; port?: number }[]; rules: { matches?: unknown[]; backendRefs?: { name: string; port?: number; weight?: number }[] }[] };
}

export function stored<T extends Stored = Stored>(emulator: KubeEmulator, apiVersion: string, kind: string, namespace: string, name: string): T | null {
  return emulator.object(apiVersion, kind, namespace, name) as T | null;
}
