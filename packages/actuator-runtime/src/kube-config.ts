import { inClusterOptions } from "@meshloop/kube-client";
import type { KubeClientOptions } from "@meshloop/kube-client";
import { envBool, envString, envUrl } from "@meshloop/runtime";

/** How a Kubernetes actuator reaches the API server (every Kubernetes mesh's actuator adds these). */
export const kubeApiSettings = {
  MESHLOOP_KUBE_API_URL: envUrl({ example: "https://kubernetes.default.svc" })
    .optional()
    .describe("The Kubernetes API server; unset: the in-cluster address and the pod's service-account token and CA."),
  MESHLOOP_KUBE_TOKEN_FILE: envString({ example: "/var/run/secrets/kubernetes.io/serviceaccount/token" })
    .optional()
    .describe("A bearer token file, read again as it rotates and never logged (unset with an API URL: no token)."),
  MESHLOOP_KUBE_CA_FILE: envString({ example: "/etc/meshloop/kube-ca.crt" })
    .optional()
    .describe("The CA bundle that signs the API server's certificate."),
  MESHLOOP_KUBE_INSECURE_SKIP_TLS_VERIFY: envBool()
    .default(false)
    .describe("Accept any API server certificate: for local test clusters only."),
};

export interface KubeApiConfig {
  MESHLOOP_KUBE_API_URL?: string | undefined;
  MESHLOOP_KUBE_TOKEN_FILE?: string | undefined;
  MESHLOOP_KUBE_CA_FILE?: string | undefined;
  MESHLOOP_KUBE_INSECURE_SKIP_TLS_VERIFY: boolean;
}

/** The client options the settings give; in-cluster ones (which need KUBERNETES_SERVICE_HOST) without an API URL. */
export function kubeClientOptions(config: KubeApiConfig, env: NodeJS.ProcessEnv = process.env): KubeClientOptions {
  const base: KubeClientOptions = config.MESHLOOP_KUBE_API_URL === undefined ? inClusterOptions(env) : { baseUrl: config.MESHLOOP_KUBE_API_URL };
  return {
    ...base,
    ...(config.MESHLOOP_KUBE_TOKEN_FILE === undefined ? {} : { tokenFile: config.MESHLOOP_KUBE_TOKEN_FILE }),
    ...(config.MESHLOOP_KUBE_CA_FILE === undefined ? {} : { caFile: config.MESHLOOP_KUBE_CA_FILE }),
    ...(config.MESHLOOP_KUBE_INSECURE_SKIP_TLS_VERIFY ? { insecureSkipTlsVerify: true } : {}),
    userAgent: "meshloop-actuator",
  };
}
