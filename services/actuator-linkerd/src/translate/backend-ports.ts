import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import type { ServicePort } from "../linkerd-objects.ts";

/**
 * The port of a version's Service that serves what the target Service's port serves. A backendRef's port is a port
 * of the backend Service (Linkerd resolves `<backend>.<namespace>.svc:<port>`), and version Services need not
 * number their ports like the target's: `checkout` may take 80 to the pods' `http` while `checkout-v2` takes 8080 to
 * it. Matched by the port's name, else by the pods' port it forwards to, else by number; null when none matches
 * (traffic sent there would fail, so the weights fail instead).
 */
export function backendPort(target: ServicePort, ports: readonly ServicePort[]): number | null {
  if (target.name !== undefined && target.name !== "") {
    const named = ports.find((p) => p.name === target.name);
    if (named !== undefined) return named.port;
  }
  const pods = target.targetPort ?? target.port;
  const samePods = ports.find((p) => (p.targetPort ?? p.port) === pods);
  if (samePods !== undefined) return samePods.port;
  return ports.find((p) => p.port === target.port)?.port ?? null;
}

/** How a target port is named in a failure: `80 (name http, targetPort http)`. */
export function describePort(port: ServicePort): string {
  const details = [port.name === undefined ? null : `name ${port.name}`, port.targetPort === undefined ? null : `targetPort ${port.targetPort}`].filter((d) => d !== null);
  return details.length === 0 ? String(port.port) : `${port.port} (${details.join(", ")})`;
}

/** Sets each backendRef's port in one rule, in place (newHttpRoute and mergeHttpRoute return fresh copies); other rules stay. */
export function withBackendPorts(route: IHTTPRoute, rule: number, ports: ReadonlyMap<string, number>): IHTTPRoute {
  const refs = route.spec.rules?.[rule]?.backendRefs ?? [];
  for (const ref of refs) {
    const port = ports.get(ref.name);
    if (port !== undefined) ref.port = port;
  }
  return route;
}
