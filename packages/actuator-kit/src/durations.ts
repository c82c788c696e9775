/** `2s` for whole seconds, `250ms` otherwise: a form Istio, Linkerd and Consul (Go's time.ParseDuration) all parse. */
export function formatDuration(ms: number): string {
  const whole = Math.round(ms);
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}
