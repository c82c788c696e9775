import type { TargetRef } from "@meshloop/contracts";
import type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import { MANAGED_BY_LABEL, MESHLOOP, ownedName } from "@meshloop/actuator-kit";

/**
 * Rate limiting in Istio has no stable API: Envoy's local rate limit filter inserted into the target's sidecars by
 * an EnvoyFilter. Each sidecar holds its own token bucket, so the service's rate is divided by its endpoints.
 */
export interface TokenBucket {
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
}

export function rateLimitFilterName(target: TargetRef): string {
  return ownedName(target.service, "ratelimit");
}

/**
 * Whole tokens per fill: at least one per second where the per-proxy rate allows, else one token per longer interval
 * (0.2/s becomes one token every 5 s). The bucket holds one fill, so bursts stay within a second's worth.
 */
export function tokenBucket(requestsPerSecond: number): TokenBucket {
  if (requestsPerSecond >= 1) {
    const tokens = Math.max(1, Math.round(requestsPerSecond));
    return { maxTokens: tokens, tokensPerFill: tokens, fillIntervalMs: 1000 };
  }
  return { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: Math.round(1000 / requestsPerSecond) };
}

export function rateLimitFilter(target: TargetRef, bucket: TokenBucket, selector: Record<string, string>): IEnvoyFilter {
  const everyone = { numerator: 100, denominator: "HUNDRED" };
  return {
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: { name: rateLimitFilterName(target), namespace: target.namespace, labels: { [MANAGED_BY_LABEL]: MESHLOOP } },
    spec: {
      workloadSelector: { labels: { ...selector } },
      configPatches: [
        {
          applyTo: "HTTP_FILTER",
          match: { context: "SIDECAR_INBOUND", listener: { filterChain: { filter: { name: "envoy.filters.network.http_connection_manager" } } } },
          patch: {
            operation: "INSERT_BEFORE",
            value: {
              name: "envoy.filters.http.local_ratelimit",
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                stat_prefix: "http_local_rate_limiter",
                token_bucket: {
                  max_tokens: bucket.maxTokens,
                  tokens_per_fill: bucket.tokensPerFill,
                  // Protobuf JSON durations are decimal seconds.
                  fill_interval: `${bucket.fillIntervalMs / 1000}s`,
                },
                filter_enabled: { runtime_key: "local_rate_limit_enabled", default_value: everyone },
                filter_enforced: { runtime_key: "local_rate_limit_enforced", default_value: everyone },
              },
            },
          },
        },
      ],
    },
  };
}
