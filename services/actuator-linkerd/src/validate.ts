import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";

/**
 * Checks an HTTPRoute against the Gateway API schemas packaged in @kubernetes-models/gateway-api (types, required
 * fields, patterns such as the parentRef group). Returns the problems, or null.
 */
export function validateHttpRoute(route: IHTTPRoute): string | null {
  try {
    new HTTPRoute(route).validate();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
