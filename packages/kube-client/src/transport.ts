import { readFile } from "node:fs/promises";
import { ConfigError } from "@meshloop/errors";
import { Agent, fetch as undiciFetch } from "undici";

/**
 * How the client reaches the API server. Plain fetch (undici's, so that a CA bundle or skipping verification can be
 * set per client through its Agent: Node's global fetch takes no TLS options). @kubernetes/client-node is not used:
 * meshloop needs six calls, and with a hand-written client every header and query parameter it sends (the apply
 * content type, fieldManager, force=false, dryRun=All) is visible here and asserted by the emulator's tests.
 */
export interface KubeClientOptions {
  /** `https://kubernetes.default.svc`, or the emulator's `http://127.0.0.1:<port>`. */
  baseUrl: string;
  token?: string;
  /** A token file, re-read every `tokenRefreshMs` (projected service-account tokens rotate); never logged. */
  tokenFile?: string;
  tokenRefreshMs?: number;
  /** PEM CA bundle (or a file holding it) to verify the API server with, instead of the system's. */
  ca?: string;
  caFile?: string;
  /** Skip certificate verification: for a lab cluster only. */
  insecureSkipTlsVerify?: boolean;
  /** Field manager for server-side apply and updates; default `meshloop`. */
  fieldManager?: string;
  userAgent?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Retries of transient failures (429, 5xx, network): attempts in all, default 4; `attempts: 1` turns them off. */
  retry?: { attempts: number; initialDelayMs: number; maxDelayMs: number };
}

export interface HttpResponse {
  status: number;
  header(name: string): string | null;
  text: string;
}

export type Send = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<HttpResponse>;

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Options for a client running in a pod: the API server from the environment, the service account's token and CA. */
export function inClusterOptions(env: NodeJS.ProcessEnv = process.env): KubeClientOptions {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  if (host === undefined || host === "") throw new ConfigError("KUBERNETES_SERVICE_HOST is not set: not running in a Kubernetes pod; give the API server's URL instead");
  const h = host.includes(":") ? `[${host}]` : host;
  return { baseUrl: `https://${h}:${port}`, tokenFile: `${SERVICE_ACCOUNT}/token`, caFile: `${SERVICE_ACCOUNT}/ca.crt` };
}

export async function createSend(options: KubeClientOptions): Promise<Send> {
  const ca = options.ca ?? (options.caFile === undefined ? undefined : await readFile(options.caFile, "utf8"));
  const dispatcher = new Agent({ connect: { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: options.insecureSkipTlsVerify !== true } });
  return async (url, init) => {
    const res = await undiciFetch(url, { ...init, dispatcher });
    return { status: res.status, header: (name) => res.headers.get(name), text: await res.text() };
  };
}

/** The bearer token, from the option or the file (cached for `tokenRefreshMs`, default 60 s). */
export function tokenSource(options: KubeClientOptions): () => Promise<string | undefined> {
  if (options.token !== undefined) {
    const token = options.token;
    return async () => token;
  }
  const file = options.tokenFile;
  if (file === undefined) return async () => undefined;
  const refreshMs = options.tokenRefreshMs ?? 60_000;
  let cached: { token: string; at: number } | null = null;
  return async () => {
    if (cached === null || Date.now() - cached.at >= refreshMs) {
      try {
        cached = { token: (await readFile(file, "utf8")).trim(), at: Date.now() };
      } catch (error) {
        throw new ConfigError(`cannot read the Kubernetes token file ${file}`, { cause: error, context: { file } });
      }
    }
    return cached.token;
  };
}
