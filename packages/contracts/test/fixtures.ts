// Valid messages for the tests to start from and break one field at a time.
import { emptySketch, partialId } from "../src/index.ts";
import type {
  ActuationResult,
  ControlCommand,
  Decision,
  DesiredState,
  PartialAggregate,
  SeriesCounters,
  TargetRef,
} from "../src/index.ts";

export const target: TargetRef = { mesh: "istio", namespace: "shop", service: "checkout" };

export function desiredState(overrides: Partial<DesiredState> = {}): DesiredState {
  return {
    target,
    weights: { v1: 90, v2: 10 },
    retries: {
      attempts: 2,
      perTryTimeoutMs: 250,
      retryOn: ["5xx", "retriable-status-codes"],
      retriableStatusCodes: [503],
      budget: { percent: 20, minRetriesPerSecond: 10 },
    },
    requestTimeoutMs: 2000,
    connectionLimits: null,
    ejection: null,
    replicas: null,
    failover: null,
    rateLimit: null,
    deniedCallers: [],
    ...overrides,
  };
}

export function decision(overrides: Partial<Decision> = {}): Decision {
  return {
    decisionId: "d-1",
    target,
    generation: 7,
    desiredState: desiredState(),
    controllers: ["canary"],
    reason: "v2 error ratio matches v1 after 500 requests; raising its share to 10%.",
    evidence: [
      { metric: "error-ratio", value: 0.001, threshold: 0.01, comparison: "<", window: { startMs: 0, endMs: 10_000 } },
    ],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 10_000,
    createdAt: "2025-05-01T12:00:00.000Z",
    ...overrides,
  };
}

export function actuation(overrides: Partial<ActuationResult> = {}): ActuationResult {
  return {
    decisionId: "d-1",
    target,
    generation: 7,
    mesh: "istio",
    status: "applied",
    reason: "applied by server-side apply",
    resources: [{ kind: "VirtualService", name: "checkout", namespace: "shop", status: "applied" }],
    unsupported: [],
    appliedAt: "2025-05-01T12:00:01.000Z",
    observedAt: "2025-05-01T12:00:01.500Z",
    ...overrides,
  };
}

export function command(overrides: Partial<ControlCommand> = {}): ControlCommand {
  return {
    commandId: "c-1",
    command: "approve",
    target,
    decisionId: "d-1",
    operator: "alice",
    issuedAt: "2025-05-01T12:00:00Z",
    ...overrides,
  };
}

export function counters(requests: number): SeriesCounters {
  const latency = {
    ...emptySketch(),
    indexes: [10, 12],
    counts: [requests * 0.75, requests * 0.25],
    count: requests,
    sum: requests * 5,
    min: 1,
    max: 9,
  };
  return {
    requests,
    errors: 1,
    status: { "2xx": requests - 1, "3xx": 0, "4xx": 0, "401": 0, "403": 0, "5xx": 1, grpcErrors: 0 },
    latency,
    sampling: "known",
  };
}

export function partial(overrides: Partial<PartialAggregate> = {}): PartialAggregate {
  const base = {
    service: "checkout",
    target,
    windowStartMs: 60_000,
    windowMs: 10_000,
    partition: 3,
    sourcePartitions: 12,
    watermarkMs: 71_000,
    revision: 0,
    series: [
      {
        version: "v1",
        instance: "checkout-7d9f-abc",
        locality: { region: "eu-west-1", zone: "eu-west-1a", cluster: null },
        counters: counters(10.5),
      },
    ],
    routes: [{ version: "v1", route: "/cart/{id}", overflow: false, counters: counters(4) }],
    inbound: [
      {
        caller: { service: "frontend", namespace: "shop" },
        callee: { service: "checkout", namespace: "shop", virtual: false },
        connectionType: "direct" as const,
        counters: counters(3),
      },
    ],
    outbound: [],
    spans: { accepted: 20, late: 0, skewed: 1, duplicate: 0 },
    ...overrides,
  };
  return { id: partialId(base.service, base.windowStartMs, base.windowMs, base.partition), ...base };
}
