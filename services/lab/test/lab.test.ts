// The default lab end to end against a stand-in for ingest's OTLP endpoint: real servers, real SDK exporters, the
// admin API changing the route table, and faults.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { DesiredState } from "@meshloop/contracts";
import { emptyDesiredState } from "@meshloop/contracts";
import { eventually } from "@meshloop/test-harness";
import type { Lab } from "../src/index.ts";
import { expectedSpans, startLab } from "../src/index.ts";
import type { FakeIngest } from "./fake-ingest.ts";
import { startFakeIngest } from "./fake-ingest.ts";

const TOKEN = "lab-admin-token";
let ingest: FakeIngest;
let lab: Lab;

before(async () => {
  ingest = await startFakeIngest();
  lab = await startLab({ ingestUrl: ingest.url, exportDelayMs: 50, adminToken: TOKEN, seed: 11 });
});
after(async () => {
  await lab.stop();
  await ingest.close();
});

const PAYMENTS = { mesh: "lab" as const, namespace: "lab", service: "payments" };

async function put(service: string, body: unknown, token: string | null = TOKEN) {
  const res = await fetch(`${lab.adminUrl}/admin/v1/targets/lab/${service}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function get(service: string) {
  const res = await fetch(`${lab.adminUrl}/admin/v1/targets/lab/${service}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function payments(patch: Partial<DesiredState>): DesiredState {
  return { ...emptyDesiredState(PAYMENTS), ...patch };
}

async function checkouts(n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await lab.request("frontend", "POST", "/checkout")).status);
  return statuses;
}

function servedBy(service: string): Map<string, number> {
  return new Map(lab.counters().instances.filter((i) => i.service === service).map((i) => [i.instanceId, i.served]));
}

test("spans arrive with the instance's resource attributes and parent/child links across services", async () => {
  const n = 30;
  assert.deepEqual(new Set(await checkouts(n)), new Set([200]));
  const perRequest = expectedSpans(lab.topology, "frontend", "POST", "/checkout");
  assert.equal(perRequest, 8, "frontend S+C, checkout S+C(fraud)+C(payments), payments S+C, ledger S");
  await eventually(() => ingest.spans.length >= n * perRequest, `${n * perRequest} spans`, 15_000);
  assert.equal(ingest.spans.length, n * perRequest);
  await eventually(() => lab.counters().spansExported === n * perRequest, "exporters to report success");

  const ids = new Map(lab.instances().map((i) => [i.instanceId, i]));
  for (const span of ingest.spans) {
    const instance = ids.get(span.instanceId ?? "");
    assert.ok(instance, `span of a running instance (${span.instanceId})`);
    assert.equal(span.service, instance.service.name);
    assert.equal(span.version, instance.version);
    assert.equal(span.namespace, "lab");
    assert.equal(span.k8sNamespace, "lab");
    assert.equal(span.attributes["http.response.status_code"], 200);
  }
  assert.ok(!ingest.spans.some((s) => s.service === "fraud-api"), "the uninstrumented dependency exports nothing");

  const byId = new Map(ingest.spans.map((s) => [`${s.traceId}/${s.spanId}`, s]));
  const servers = ingest.spans.filter((s) => s.kind === 2);
  const roots = servers.filter((s) => s.parentSpanId === "");
  assert.equal(roots.length, n, "one root per request, the frontend's SERVER span");
  assert.ok(roots.every((s) => s.service === "frontend" && s.attributes["http.route"] === "/checkout"));
  for (const server of servers.filter((s) => s.parentSpanId !== "")) {
    const client = byId.get(`${server.traceId}/${server.parentSpanId}`);
    assert.ok(client, `the SERVER span of ${server.service} has its CLIENT parent`);
    assert.equal(client.kind, 3);
    assert.equal(client.attributes["server.address"], server.service);
    const callerServer = byId.get(`${client.traceId}/${client.parentSpanId}`);
    assert.ok(callerServer && callerServer.kind === 2 && callerServer.service === client.service, "the CLIENT span's parent is its own SERVER span");
  }
  const edges = new Set(servers.filter((s) => s.parentSpanId !== "").map((s) => `${byId.get(`${s.traceId}/${s.parentSpanId}`)!.service}->${s.service}`));
  assert.deepEqual([...edges].sort(), ["checkout->payments", "frontend->checkout", "payments->ledger"]);
  const fraud = ingest.spans.filter((s) => s.attributes["peer.service"] === "fraud-api");
  assert.equal(fraud.length, n, "checkout's calls to the uninstrumented fraud-api are CLIENT spans naming it");
  assert.ok(fraud.every((s) => s.kind === 3 && s.service === "checkout"));
});

test("the admin API wants the bearer token, validates the desired state and reports a missing target", async () => {
  assert.equal((await put("payments", { generation: 1, desiredState: payments({}) }, null)).status, 401);
  assert.equal((await put("payments", { generation: 1, desiredState: payments({}) }, "wrong")).status, 401);
  const notJson = await put("payments", "{nope");
  assert.equal(notJson.status, 400);
  assert.match(String(notJson.body.error), /^body is not JSON/);
  const badWeights = await put("payments", { generation: 1, desiredState: payments({ weights: { v1: 50, v2: 20 } }) });
  assert.equal(badWeights.status, 400);
  assert.match(String(badWeights.body.error), /desiredState\.weights: weights must sum to 100, got 70/);
  assert.ok(!String(badWeights.body.error).includes("\n"));
  const wrongTarget = await put("ledger", { generation: 1, desiredState: payments({}) });
  assert.equal(wrongTarget.status, 400);
  assert.match(String(wrongTarget.body.error), /is not lab\/lab\/ledger/);
  assert.equal((await put("nosuch", { generation: 1, desiredState: payments({}) })).status, 404);
  assert.equal((await get("ledger")).status, 404, "no state applied yet");
});

test("a PUT of weights {v1: 0, v2: 100} moves payments traffic to v2; an older generation gets 409", async () => {
  const desiredState = payments({ weights: { v1: 0, v2: 100 } });
  const applied = await put("payments", { generation: 5, desiredState });
  assert.deepEqual(applied, { status: 200, body: { changed: true } });
  assert.deepEqual(await get("payments"), { status: 200, body: { generation: 5, desiredState } });

  const before = servedBy("payments");
  assert.deepEqual(new Set(await checkouts(40)), new Set([200]));
  const after = servedBy("payments");
  let v2 = 0;
  for (const [id, served] of after) {
    const delta = served - (before.get(id) ?? 0);
    if (id.includes("-v1-")) assert.equal(delta, 0, `${id} got no traffic`);
    else v2 += delta;
  }
  assert.equal(v2, 40);

  const older = await put("payments", { generation: 4, desiredState: payments({ weights: { v1: 100, v2: 0 } }) });
  assert.equal(older.status, 409);
  assert.equal(older.body.appliedGeneration, 5);
  assert.equal(typeof older.body.error, "string");
  const sameAgain = await put("payments", { generation: 5, desiredState });
  assert.deepEqual(sameAgain, { status: 200, body: { changed: false } });
  const sameGenOther = await put("payments", { generation: 5, desiredState: payments({}) });
  assert.equal(sameGenOther.status, 409);
  const newerSame = await put("payments", { generation: 6, desiredState });
  assert.deepEqual(newerSame, { status: 200, body: { changed: false } });
});

test("an error fault on one instance raises that instance's error rate, and only its", async () => {
  // Weights from the previous test send everything to v2; the fault hits one of its two instances.
  lab.faults.add({ id: "v2-1-errors", scope: { service: "payments", instanceId: "payments-v2-1" }, effect: { kind: "errors", rate: 0.6, status: 500 } });
  const before = lab.counters().instances;
  const statuses = await checkouts(80);
  lab.faults.remove("v2-1-errors");
  const after = lab.counters().instances;
  const delta = (id: string) => {
    const a = after.find((i) => i.instanceId === id)!;
    const b = before.find((i) => i.instanceId === id)!;
    return { served: a.served - b.served, errors: a.errors - b.errors };
  };
  const hit = delta("payments-v2-1");
  const spared = delta("payments-v2-0");
  assert.equal(hit.served + spared.served, 80);
  assert.ok(hit.errors / hit.served > 0.4, `faulty instance error rate ${hit.errors}/${hit.served}`);
  assert.equal(spared.errors, 0);
  assert.equal(statuses.filter((s) => s === 502).length, hit.errors, "each payments error fails the checkout (no retries set)");
});

test("a replicas change with mode apply starts and stops instances, keeping the version mix", async () => {
  const count = () => {
    const running = lab.instances("payments");
    return { v1: running.filter((i) => i.version === "v1").length, v2: running.filter((i) => i.version === "v2").length };
  };
  assert.deepEqual(count(), { v1: 3, v2: 2 });
  const up = await put("payments", { generation: 7, desiredState: payments({ weights: { v1: 50, v2: 50 }, replicas: { count: 7, mode: "apply" } }) });
  assert.equal(up.status, 200);
  assert.deepEqual(count(), { v1: 4, v2: 3 });
  const recommend = await put("payments", { generation: 8, desiredState: payments({ weights: { v1: 50, v2: 50 }, replicas: { count: 12, mode: "recommend" } }) });
  assert.equal(recommend.status, 200);
  assert.deepEqual(count(), { v1: 4, v2: 3 }, "a recommendation is not applied");
  const down = await put("payments", { generation: 9, desiredState: payments({ weights: { v1: 50, v2: 50 }, replicas: { count: 2, mode: "apply" } }) });
  assert.equal(down.status, 200);
  assert.deepEqual(count(), { v1: 1, v2: 1 });
  assert.deepEqual(lab.instances("payments").map((i) => i.instanceId).sort(), ["payments-v1-0", "payments-v2-0"], "the newest instances stopped first");
  assert.deepEqual(new Set(await checkouts(10)), new Set([200]), "traffic still flows to the remaining instances");
});
