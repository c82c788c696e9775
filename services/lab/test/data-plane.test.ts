import assert from "node:assert/strict";
import { test } from "node:test";
import type { DesiredState, RetryPolicy } from "@meshloop/contracts";
import { desiredStateSchema, emptyDesiredState } from "@meshloop/contracts";
import type { AttemptOutcome, Endpoint, Transport } from "../src/index.ts";
import { DataPlane, seededRandom } from "../src/index.ts";

const TARGET = { mesh: "lab" as const, namespace: "lab", service: "payments" };
const ENDPOINTS: Endpoint[] = [
  { instanceId: "payments-v1-0", version: "v1" },
  { instanceId: "payments-v1-1", version: "v1" },
  { instanceId: "payments-v1-2", version: "v1" },
  { instanceId: "payments-v2-0", version: "v2" },
  { instanceId: "payments-v2-1", version: "v2" },
];
const CALLER = { service: "checkout", identity: "spiffe://cluster.local/ns/lab/sa/checkout" };
const FUTURE = new Date(Date.now() + 3_600_000).toISOString();
const PAST = new Date(Date.now() - 1_000).toISOString();

function state(patch: Partial<DesiredState>): DesiredState {
  return desiredStateSchema.parse({ ...emptyDesiredState(TARGET), ...patch });
}

function plane(desired: DesiredState | null, endpoints = ENDPOINTS, seed = 7) {
  return new DataPlane({ routeTable: () => desired, endpoints: () => endpoints, random: seededRandom(seed), defaultTimeoutMs: 2_000 });
}

/** A transport answering from a script per try, recording which instance each try went to. */
function scripted(outcomes: (attempt: number, endpoint: Endpoint) => AttemptOutcome) {
  const tries: Endpoint[] = [];
  const transport: Transport = async ({ endpoint, attempt }) => {
    tries.push(endpoint);
    return outcomes(attempt, endpoint);
  };
  return { tries, transport };
}

const ok: AttemptOutcome = { kind: "response", status: 200 };

function retries(patch: Partial<RetryPolicy>): RetryPolicy {
  return { attempts: 2, perTryTimeoutMs: null, retryOn: ["5xx"], retriableStatusCodes: [], budget: null, ...patch };
}

test("weights per version are respected within statistical bounds", async () => {
  for (const [v1, v2] of [[90, 10], [50, 50], [0, 100], [100, 0]] as const) {
    const dp = plane(state({ weights: { v1, v2 } }));
    const { tries, transport } = scripted(() => ok);
    const n = 4_000;
    for (let i = 0; i < n; i++) await dp.call(CALLER, "payments", transport);
    const share = tries.filter((e) => e.version === "v2").length / n;
    const p = v2 / 100;
    const sigma = Math.sqrt((p * (1 - p)) / n);
    // 5 sigma: fails by chance about once in two million runs (and never for a fixed seed).
    assert.ok(Math.abs(share - p) <= 5 * sigma + 1e-9, `v2 share ${share} for weight ${v2}`);
  }
});

test("without weights, traffic spreads evenly over instances, and round-robin visits each instance in turn", async () => {
  const dp = plane(null);
  const { tries, transport } = scripted(() => ok);
  for (let i = 0; i < 5_000; i++) await dp.call(CALLER, "payments", transport);
  for (const e of ENDPOINTS) {
    const share = tries.filter((t) => t.instanceId === e.instanceId).length / 5_000;
    assert.ok(Math.abs(share - 0.2) < 0.03, `${e.instanceId} got ${share}`);
  }
  const only = plane(state({ weights: { v1: 0, v2: 100 } }));
  const rr = scripted(() => ok);
  for (let i = 0; i < 6; i++) await only.call(CALLER, "payments", rr.transport);
  assert.deepEqual(rr.tries.map((t) => t.instanceId), ["payments-v2-0", "payments-v2-1", "payments-v2-0", "payments-v2-1", "payments-v2-0", "payments-v2-1"]);
});

test("ejected instances are never chosen while their lease holds, and again once it expired", async () => {
  const ejection = (leaseExpiresAt: string) => ({
    consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50,
    ejectInstances: [
      { instanceId: "payments-v1-1", leaseExpiresAt, reason: "gray failure" },
      { instanceId: "payments-v2-0", leaseExpiresAt, reason: "gray failure" },
    ],
  });
  const dp = plane(state({ ejection: ejection(FUTURE) }));
  const { tries, transport } = scripted(() => ok);
  for (let i = 0; i < 2_000; i++) await dp.call(CALLER, "payments", transport);
  const chosen = new Set(tries.map((t) => t.instanceId));
  assert.deepEqual([...chosen].sort(), ["payments-v1-0", "payments-v1-2", "payments-v2-1"]);

  const expired = plane(state({ ejection: ejection(PAST) }));
  const again = scripted(() => ok);
  for (let i = 0; i < 500; i++) await expired.call(CALLER, "payments", again.transport);
  assert.equal(new Set(again.tries.map((t) => t.instanceId)).size, 5);
});

test("a version whose instances are all ejected gets 503 no-endpoint, never another version's instance", async () => {
  const dp = plane(state({
    weights: { v1: 0, v2: 100 },
    ejection: {
      consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100,
      ejectInstances: ["payments-v2-0", "payments-v2-1"].map((instanceId) => ({ instanceId, leaseExpiresAt: FUTURE, reason: "x" })),
    },
  }));
  const { tries, transport } = scripted(() => ok);
  const result = await dp.call(CALLER, "payments", transport);
  assert.equal(result.status, 503);
  assert.equal(result.outcome, "no-endpoint");
  assert.equal(tries.length, 0);
  assert.equal(dp.counters("payments").noEndpoint, 1);
});

test("retries happen only on the listed conditions", async () => {
  const cases: Array<[RetryPolicy, AttemptOutcome, boolean]> = [
    [retries({ retryOn: ["5xx"] }), { kind: "response", status: 500 }, true],
    [retries({ retryOn: ["5xx"] }), { kind: "response", status: 404 }, false],
    [retries({ retryOn: ["gateway-error"] }), { kind: "response", status: 500 }, false],
    [retries({ retryOn: ["gateway-error"] }), { kind: "response", status: 503 }, true],
    [retries({ retryOn: ["connect-failure"] }), { kind: "reset" }, false],
    [retries({ retryOn: ["connect-failure"] }), { kind: "connect-failure" }, true],
    [retries({ retryOn: ["reset"] }), { kind: "reset" }, true],
    [retries({ retryOn: ["retriable-status-codes"], retriableStatusCodes: [502] }), { kind: "response", status: 502 }, true],
    [retries({ retryOn: ["retriable-status-codes"], retriableStatusCodes: [502] }), { kind: "response", status: 500 }, false],
    [retries({ retryOn: [] }), { kind: "response", status: 500 }, false],
    [retries({ attempts: 0 }), { kind: "response", status: 500 }, false],
  ];
  for (const [policy, outcome, retried] of cases) {
    const dp = plane(state({ retries: policy }));
    const { tries, transport } = scripted((attempt) => (attempt === 0 ? outcome : ok));
    const result = await dp.call(CALLER, "payments", transport);
    assert.equal(tries.length, retried ? 2 : 1, `${policy.retryOn.join(",")} on ${JSON.stringify(outcome)}`);
    assert.equal(result.attempts, tries.length);
    assert.equal(result.status, retried ? 200 : outcome.kind === "response" ? outcome.status : 503);
  }
});

test("retries stop at the policy's attempts", async () => {
  const dp = plane(state({ retries: retries({ attempts: 3 }) }));
  const { tries, transport } = scripted(() => ({ kind: "response", status: 500 }));
  const result = await dp.call(CALLER, "payments", transport);
  assert.equal(tries.length, 4);
  assert.equal(result.status, 500);
  assert.equal(dp.counters("payments").retries, 3);
});

test("retries stay within the budget: a share of requests, with a floor per second", async () => {
  // 10% of requests, no floor: 100 failing requests may retry about 10 times in the 10 s window.
  const dp = plane(state({ retries: retries({ attempts: 1, budget: { percent: 10, minRetriesPerSecond: 0 } }) }));
  const { tries, transport } = scripted(() => ({ kind: "response", status: 503 }));
  for (let i = 0; i < 100; i++) await dp.call(CALLER, "payments", transport);
  const counters = dp.counters("payments");
  assert.ok(counters.retries >= 9 && counters.retries <= 10, `retries ${counters.retries}`);
  assert.equal(counters.retries + counters.retriesRefused, 100);
  assert.equal(tries.length, 100 + counters.retries);

  // The floor allows retries even when the share alone would not: 1/s over the 10 s window = 10.
  const floor = plane(state({ retries: retries({ attempts: 1, budget: { percent: 0, minRetriesPerSecond: 1 } }) }));
  const f = scripted(() => ({ kind: "response", status: 503 }));
  for (let i = 0; i < 30; i++) await floor.call(CALLER, "payments", f.transport);
  assert.equal(floor.counters("payments").retries, 10);
});

test("a denied caller is refused with 403 before any try; others and expired denials pass", async () => {
  const denied = [
    { identity: "spiffe://cluster.local/ns/lab/sa/crawler", reason: "never-seen caller", leaseExpiresAt: FUTURE },
    { identity: "spiffe://cluster.local/ns/lab/sa/old", reason: "expired", leaseExpiresAt: PAST },
  ];
  const dp = plane(state({ deniedCallers: denied }));
  const { tries, transport } = scripted(() => ok);
  const refused = await dp.call({ service: "crawler", identity: denied[0]!.identity }, "payments", transport);
  assert.equal(refused.status, 403);
  assert.equal(refused.outcome, "denied");
  assert.equal(refused.attempts, 0);
  assert.equal(tries.length, 0);
  assert.equal((await dp.call(CALLER, "payments", transport)).status, 200);
  assert.equal((await dp.call({ service: "old", identity: denied[1]!.identity }, "payments", transport)).status, 200);
  assert.equal(dp.counters("payments").denied, 1);
});

test("connection limits: requests beyond connections queue, beyond pending get 503 overflow (counted)", async () => {
  const dp = plane(state({ connectionLimits: { maxConnections: 2, maxPendingRequests: 3, maxRequests: 100, maxRetries: 3 } }));
  let active = 0;
  let peak = 0;
  const transport: Transport = async () => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 30));
    active--;
    return ok;
  };
  const results = await Promise.all(Array.from({ length: 10 }, () => dp.call(CALLER, "payments", transport)));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 503, 503, 503, 503, 503]);
  assert.equal(peak, 2, "never more than maxConnections tries at once");
  assert.equal(dp.counters("payments").overflow, 5);
});

test("the request timeout ends a slow call with 504, and a per-try timeout is retried when covered", async () => {
  const slow: Transport = ({ signal }) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(ok), 1_000);
      signal.addEventListener("abort", () => clearTimeout(timer));
    });
  const dp = plane(state({ requestTimeoutMs: 50 }));
  const started = Date.now();
  const result = await dp.call(CALLER, "payments", slow);
  assert.equal(result.status, 504);
  assert.ok(Date.now() - started < 500);

  const perTry = plane(state({ requestTimeoutMs: 1_000, retries: retries({ attempts: 2, perTryTimeoutMs: 30, retryOn: ["gateway-error"] }) }));
  let calls = 0;
  const firstSlow: Transport = (req) => (calls++ === 0 ? slow(req) : Promise.resolve(ok));
  const retried = await perTry.call(CALLER, "payments", firstSlow);
  assert.equal(retried.status, 200);
  assert.equal(retried.attempts, 2);
});

test("a route table change applies to the next try", async () => {
  let desired = state({ weights: { v1: 100, v2: 0 } });
  const dp = new DataPlane({ routeTable: () => desired, endpoints: () => ENDPOINTS, random: seededRandom(3) });
  const { tries, transport } = scripted(() => ok);
  await dp.call(CALLER, "payments", transport);
  desired = state({ weights: { v1: 0, v2: 100 } });
  await dp.call(CALLER, "payments", transport);
  assert.deepEqual(tries.map((t) => t.version), ["v1", "v2"]);
});
