import { DestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import { VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { EnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import { AuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import type { IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import type { KubeObject } from "@meshloop/actuator-kit";

/**
 * Checks an Istio object against the CRD schemas packaged in @kubernetes-models/istio (types, required fields,
 * formats). The CRDs' CEL rules are left to the API server's `dryRun=All` pass. Returns the problems, or null.
 */
export function validateIstioObject(object: KubeObject): string | null {
  try {
    const key = `${object.apiVersion}/${object.kind}`;
    switch (key) {
      case "networking.istio.io/v1/VirtualService":
        new VirtualService(object as IVirtualService).validate();
        break;
      case "networking.istio.io/v1/DestinationRule":
        new DestinationRule(object as IDestinationRule).validate();
        break;
      case "networking.istio.io/v1alpha3/EnvoyFilter":
        new EnvoyFilter(object as IEnvoyFilter).validate();
        break;
      case "security.istio.io/v1/AuthorizationPolicy":
        new AuthorizationPolicy(object as IAuthorizationPolicy).validate();
        break;
      default:
        return `no schema for ${key}`;
    }
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
