// Faults in a running lab: a crashed instance refuses connections and comes back, retries route around it, and a
// skewed instance's spans carry its skewed clock.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { emptyDesiredState } from "@meshloop/contracts";
import { eventually } from "@meshloop/test-harness";
import type { Lab } from "../src/index.ts";
import { sendRequest, startLab } from "../src/index.ts";
import type { FakeIngest } from "./fake-ingest.ts";
import { startFakeIngest } from "./fake-ingest.ts";

let ingest: FakeIngest;
let lab: Lab;

before(async () => {
  ingest = await startFakeIngest();
  lab = await startLab({ ingestUrl: ingest.url, exportDelayMs: 50, seed: 4, faultTickMs: 20 });
});
after(async () => {
  await lab.stop();
  await ingest.close();
});

function instance(id: string) {
  return lab.instances().find((i) => i.instanceId === id)!;
}

test("a crashed instance stops answering and recovers on the same port; retries on connect-failure route around it", async () => {
  const victim = instance("payments-v1-0");
  const port = victim.port!;
  const id = lab.faults.add({ scope: { service: "payments", instanceId: "payments-v1-0" }, effect: { kind: "crash" } });
  await eventually(() => victim.crashed, "the instance to crash");
  const refused = await sendRequest(port, "POST", "/pay", {}, new AbortController().signal);
  assert.deepEqual(refused, { kind: "connect-failure" });

  // Without retries, calls that land on the crashed instance fail.
  const without = [];
  for (let i = 0; i < 25; i++) without.push((await lab.request("payments", "POST", "/pay")).status);
  assert.ok(without.includes(503), "some calls hit the crashed instance");

  const retries = { attempts: 3, perTryTimeoutMs: null, retryOn: ["connect-failure" as const], retriableStatusCodes: [], budget: null };
  const res = await fetch(`${lab.adminUrl}/admin/v1/targets/lab/payments`, {
    method: "PUT",
    body: JSON.stringify({ generation: 1, desiredState: { ...emptyDesiredState({ mesh: "lab", namespace: "lab", service: "payments" }), retries } }),
  });
  assert.equal(res.status, 200);
  const before = lab.dataPlaneCounters("payments").retries;
  const withRetries = [];
  for (let i = 0; i < 25; i++) withRetries.push((await lab.request("payments", "POST", "/pay")).status);
  assert.deepEqual(new Set(withRetries), new Set([200]));
  assert.ok(lab.dataPlaneCounters("payments").retries > before);

  lab.faults.remove(id);
  await eventually(() => !victim.crashed, "the instance to recover");
  assert.equal(victim.port, port);
  const answered = await sendRequest(port, "POST", "/pay", {}, new AbortController().signal);
  assert.deepEqual(answered, { kind: "response", status: 200 });
});

test("clock skew shifts one instance's span timestamps and no other's", async () => {
  lab.faults.add({ scope: { service: "ledger" }, effect: { kind: "clock-skew", offsetMs: 120_000 } });
  const sentAt = Date.now();
  for (let i = 0; i < 5; i++) assert.equal((await lab.request("frontend", "POST", "/checkout")).status, 200);
  // Spans of earlier tests started before sentAt; every span of this one starts after it (skewed or not).
  await eventually(() => ingest.spans.filter((s) => s.service === "ledger" && s.startMs >= sentAt).length >= 5, "ledger spans");
  const recent = ingest.spans.filter((s) => s.startMs >= sentAt);
  const ledger = recent.filter((s) => s.service === "ledger");
  const others = recent.filter((s) => s.service !== "ledger");
  assert.ok(ledger.length >= 5 && others.length > 0);
  for (const s of ledger) assert.ok(s.startMs - sentAt > 110_000, `ledger span at +${s.startMs - sentAt} ms`);
  for (const s of others) assert.ok(s.startMs - sentAt < 10_000, `${s.service} span at +${s.startMs - sentAt} ms`);
});

test("a latency fault on a route slows it with timers", async () => {
  lab.faults.add({ scope: { service: "ledger", route: "/entries" }, effect: { kind: "latency", medianMs: 120, p99Ms: 150 } });
  const took: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    assert.equal((await lab.request("ledger", "POST", "/entries")).status, 200);
    took.push(performance.now() - started);
  }
  took.sort((a, b) => a - b);
  assert.ok(took[2]! >= 90 && took[2]! < 400, `median ${took[2]} ms`);
});
