import assert from "node:assert/strict";
import { test } from "node:test";
import type { Fault, RequestContext } from "../src/index.ts";
import { FaultInjector, planRequest, seededRandom } from "../src/index.ts";

const BASE = { medianMs: 5, p99Ms: 20 };
const REQ: RequestContext = { service: "payments", version: "v2", instanceId: "payments-v2-1", route: "/pay", inFlight: 1 };
const T = 1_000_000;

function fault(partial: Partial<Fault> & Pick<Fault, "effect">): Fault {
  return { id: "f", scope: { service: "payments" }, ...partial };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

test("latency is log-normal with the given median and p99; a latency fault replaces the base", () => {
  const random = seededRandom(5);
  const base = Array.from({ length: 20_000 }, () => planRequest([], REQ, BASE, T, random).delayMs);
  assert.ok(Math.abs(quantile(base, 0.5) - 5) < 0.25, `median ${quantile(base, 0.5)}`);
  assert.ok(Math.abs(quantile(base, 0.99) - 20) < 2, `p99 ${quantile(base, 0.99)}`);
  const slow = [fault({ effect: { kind: "latency", medianMs: 40, p99Ms: 400 } })];
  const faulty = Array.from({ length: 20_000 }, () => planRequest(slow, REQ, BASE, T, random).delayMs);
  assert.ok(Math.abs(quantile(faulty, 0.5) - 40) < 2, `median ${quantile(faulty, 0.5)}`);
  assert.ok(Math.abs(quantile(faulty, 0.99) - 400) < 40, `p99 ${quantile(faulty, 0.99)}`);
});

test("an error fault answers its share of requests with its status; several roll independently", () => {
  const random = seededRandom(9);
  const faults = [
    fault({ id: "a", effect: { kind: "errors", rate: 0.2, status: 503 } }),
    fault({ id: "b", effect: { kind: "errors", rate: 0.25, status: 500 } }),
  ];
  const statuses = Array.from({ length: 20_000 }, () => planRequest(faults, REQ, BASE, T, random).errorStatus);
  const share = (s: number | null) => statuses.filter((x) => x === s).length / statuses.length;
  assert.ok(Math.abs(share(503) - 0.2) < 0.015, `503 share ${share(503)}`);
  assert.ok(Math.abs(share(500) - 0.8 * 0.25) < 0.015, `500 share ${share(500)}`);
  assert.ok(Math.abs(share(null) - 0.6) < 0.015);
});

test("faults hit only their scope (service, version, instance, route) and only within their time window", () => {
  const random = seededRandom(1);
  const always = { kind: "errors", rate: 1, status: 500 } as const;
  const hits = (f: Fault, nowMs = T) => planRequest([f], REQ, BASE, nowMs, random).errorStatus === 500;
  assert.ok(hits(fault({ effect: always })));
  assert.ok(!hits(fault({ scope: { service: "ledger" }, effect: always })));
  assert.ok(hits(fault({ scope: { service: "payments", version: "v2" }, effect: always })));
  assert.ok(!hits(fault({ scope: { service: "payments", version: "v1" }, effect: always })));
  assert.ok(!hits(fault({ scope: { service: "payments", instanceId: "payments-v2-0" }, effect: always })));
  assert.ok(hits(fault({ scope: { service: "payments", route: "/pay" }, effect: always })));
  assert.ok(!hits(fault({ scope: { service: "payments", route: "/refund" }, effect: always })));
  assert.ok(!hits(fault({ effect: always, fromMs: T + 1 })));
  assert.ok(hits(fault({ effect: always, fromMs: T, untilMs: T + 1 })));
  assert.ok(!hits(fault({ effect: always, untilMs: T })));
});

test("capacity: within it nothing changes; beyond it latency and errors climb with the excess", () => {
  const random = seededRandom(3);
  const capacity = [fault({ effect: { kind: "capacity", maxConcurrency: 10, latencyPerExcessMs: 20, errorRatePerExcess: 0.1, status: 503 } })];
  const flat = { medianMs: 5, p99Ms: 5 };
  const within = planRequest(capacity, { ...REQ, inFlight: 10 }, flat, T, random);
  assert.equal(within.delayMs, 5);
  assert.equal(within.errorStatus, null);
  const over = Array.from({ length: 10_000 }, () => planRequest(capacity, { ...REQ, inFlight: 14 }, flat, T, random));
  assert.equal(over[0]!.delayMs, 5 + 4 * 20);
  const errors = over.filter((p) => p.errorStatus === 503).length / over.length;
  assert.ok(Math.abs(errors - 0.4) < 0.02, `error share ${errors}`);
});

test("crash and clock skew apply to whole instances over their windows", () => {
  const faults = new FaultInjector();
  const instance = { service: "payments", version: "v1", instanceId: "payments-v1-0" };
  faults.add({ scope: { service: "payments", instanceId: "payments-v1-0" }, effect: { kind: "crash" }, fromMs: T, untilMs: T + 100 });
  const skew = faults.add({ scope: { service: "payments" }, effect: { kind: "clock-skew", offsetMs: -2_500 } });
  assert.ok(!faults.crashed(instance, T - 1));
  assert.ok(faults.crashed(instance, T));
  assert.ok(!faults.crashed(instance, T + 100));
  assert.ok(!faults.crashed({ ...instance, instanceId: "payments-v1-1" }, T));
  assert.equal(faults.skewMs(instance, T), -2_500);
  assert.equal(faults.skewMs({ ...instance, service: "ledger" }, T), 0);
  assert.ok(faults.remove(skew));
  assert.equal(faults.skewMs(instance, T), 0);
  assert.throws(() => faults.add({ id: "fault-1", scope: { service: "x" }, effect: { kind: "crash" } }), /exists already/);
});
