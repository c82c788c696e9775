// The lab applier against a real lab started in this process (its admin API, route table and data plane): every
// answer of the admin API mapped to the outcome the actuator runtime expects, and the token kept out of every log.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ApplyOptions } from "@meshloop/actuator-runtime";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import { isRetriable } from "@meshloop/errors";
import type { Lab, Topology } from "@meshloop/lab";
import { startLab } from "@meshloop/lab";
import type { LabAdminLogger } from "../src/index.ts";
import { LabAdminError, LabApplier } from "../src/index.ts";

const TOKEN = "s3cret-lab-token-4711";
const dir = mkdtempSync(join(tmpdir(), "lab-applier-"));
const tokenFile = join(dir, "token");
const wrongTokenFile = join(dir, "wrong-token");
writeFileSync(tokenFile, `${TOKEN}\n`);
writeFileSync(wrongTokenFile, "not-the-token\n");

const FAST = { medianMs: 1, p99Ms: 3 };
const topology: Topology = {
  mesh: "lab",
  namespace: "lab",
  entry: "payments",
  services: [
    { name: "payments", versions: [{ version: "v1", instances: 1 }, { version: "v2", instances: 1 }], instrumented: true, latency: FAST, routes: [{ method: "POST", path: "/pay", calls: [] }] },
    { name: "ledger", versions: [{ version: "v1", instances: 1 }], instrumented: true, latency: FAST, routes: [{ method: "POST", path: "/entries", calls: [] }] },
  ],
};
const PAYMENTS: TargetRef = { mesh: "lab", namespace: "lab", service: "payments" };
const APPLY: ApplyOptions = { mode: "apply", signal: new AbortController().signal };
const DRY_RUN: ApplyOptions = { mode: "dry-run", signal: new AbortController().signal };

const logged: string[] = [];
const logger: LabAdminLogger = {
  debug: (object, message) => logged.push(JSON.stringify({ object, message })),
  warn: (object, message) => logged.push(JSON.stringify({ object, message })),
};
let lab: Lab;
let applier: LabApplier;

before(async () => {
  lab = await startLab({ topology, ingestUrl: null, adminToken: TOKEN, seed: 3 });
  applier = new LabApplier({ adminUrl: lab.adminUrl, tokenFile, logger });
});
after(async () => {
  await lab?.stop();
});

function decision(generation: number, patch: Partial<DesiredState>, target: TargetRef = PAYMENTS): Decision {
  return {
    decisionId: `${targetKey(target)}@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), ...patch },
    controllers: ["canary"],
    reason: "test",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 0,
    createdAt: new Date().toISOString(),
  };
}

async function held(service: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${lab.adminUrl}/admin/v1/targets/lab/${service}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const ALL_V2 = { weights: { v1: 0, v2: 100 } };

test("a dry run before any state reads the lab and changes nothing", async () => {
  const outcome = await applier.apply(decision(3, ALL_V2), DRY_RUN);
  assert.equal(outcome.status, "dry-run", outcome.reason);
  assert.match(outcome.reason, /would set the first desired state of lab\/payments at generation 3/);
  assert.deepEqual(outcome.resources.map((r) => [r.kind, r.name, r.status]), [["route-table", "lab/payments", "skipped"]]);
  assert.equal((await held("payments")).status, 404, "still no state in the lab");
});

test("a decision is applied to the route table, and the lab's data plane routes by it", async () => {
  const d = decision(5, ALL_V2);
  const outcome = await applier.apply(d, APPLY);
  assert.equal(outcome.status, "applied", outcome.reason);
  assert.deepEqual(outcome.resources, [{ kind: "route-table", name: "lab/payments", status: "applied" }]);
  assert.deepEqual(outcome.unsupported, []);
  assert.ok(outcome.appliedAt !== undefined && Date.parse(outcome.appliedAt) > 0);
  assert.deepEqual(await held("payments"), { status: 200, body: { generation: 5, desiredState: d.desiredState } });

  const before = lab.counters().instances.find((i) => i.instanceId === "payments-v1-0")!.served;
  for (let i = 0; i < 10; i++) assert.equal((await lab.request("payments", "POST", "/pay")).status, 200);
  assert.equal(lab.counters().instances.find((i) => i.instanceId === "payments-v1-0")!.served, before, "v1 got none of the traffic");
});

test("the same state again is applied and unchanged, under its own or a newer generation", async () => {
  const again = await applier.apply(decision(5, ALL_V2), APPLY);
  assert.equal(again.status, "applied", again.reason);
  assert.deepEqual(again.resources.map((r) => r.status), ["unchanged"]);
  const newer = await applier.apply(decision(6, ALL_V2), APPLY);
  assert.equal(newer.status, "applied", newer.reason);
  assert.deepEqual(newer.resources.map((r) => r.status), ["unchanged"]);
  assert.equal((await held("payments")).body.generation, 6);
});

test("an older generation is stale and leaves the lab's state; the same generation with another state fails", async () => {
  const older = await applier.apply(decision(4, { weights: { v1: 100, v2: 0 } }), APPLY);
  assert.equal(older.status, "stale", older.reason);
  assert.match(older.reason, /the lab holds generation 6, newer than 4/);
  assert.deepEqual(older.resources.map((r) => r.status), ["skipped"]);
  const contradicting = await applier.apply(decision(6, { weights: { v1: 50, v2: 50 } }), APPLY);
  assert.equal(contradicting.status, "failed", contradicting.reason);
  assert.match(contradicting.reason, /refused generation 6 as conflicting: generation 6 was applied already with a different desired state/);
  assert.deepEqual((await held("payments")).body.desiredState, decision(6, ALL_V2).desiredState);
});

test("a dry run against a held state says whether it would change, and changes nothing", async () => {
  const change = await applier.apply(decision(7, { weights: { v1: 50, v2: 50 } }), DRY_RUN);
  assert.equal(change.status, "dry-run");
  assert.match(change.reason, /would replace generation 6 of lab\/payments with 7/);
  const same = await applier.apply(decision(7, ALL_V2), DRY_RUN);
  assert.match(same.reason, /would change nothing/);
  const older = await applier.apply(decision(2, ALL_V2), DRY_RUN);
  assert.match(older.reason, /would be refused: the lab holds generation 6/);
  assert.equal((await held("payments")).body.generation, 6);
});

test("a service the lab does not run fails with the lab's reason", async () => {
  const target: TargetRef = { mesh: "lab", namespace: "lab", service: "nosuch" };
  const outcome = await applier.apply(decision(1, {}, target), APPLY);
  assert.equal(outcome.status, "failed");
  assert.match(outcome.reason, /^no such service in the lab: the lab has no service lab\/nosuch/);
  assert.deepEqual(outcome.resources, [{ kind: "route-table", name: "lab/nosuch", status: "failed", message: outcome.reason }]);
  const otherNamespace = await applier.apply(decision(1, {}, { mesh: "lab", namespace: "shop", service: "payments" }), DRY_RUN);
  assert.equal(otherNamespace.status, "failed", "a dry run checks the service too");
});

test("a state the lab refuses (400) fails without a retry", async () => {
  // The decision schema forbids this; a hand-made decision shows the lab's own check and that it is not retried.
  const bad = decision(8, { weights: { v1: 30, v2: 30 } });
  const outcome = await applier.apply(bad, APPLY);
  assert.equal(outcome.status, "failed");
  assert.match(outcome.reason, /the lab refused the desired state of lab\/payments: desiredState\.weights: weights must sum to 100/);
  assert.equal((await held("payments")).body.generation, 6);
});

test("a wrong, missing or unreadable token fails, is not retriable, and the token is never logged", async () => {
  const wrong = await new LabApplier({ adminUrl: lab.adminUrl, tokenFile: wrongTokenFile, logger }).apply(decision(9, ALL_V2), APPLY);
  assert.equal(wrong.status, "failed");
  assert.match(wrong.reason, /refused the bearer token/);
  const none = await new LabApplier({ adminUrl: lab.adminUrl }).apply(decision(9, ALL_V2), APPLY);
  assert.equal(none.status, "failed");
  assert.match(none.reason, /none was sent/);
  const unreadable = await new LabApplier({ adminUrl: lab.adminUrl, tokenFile: join(dir, "absent") }).apply(decision(9, ALL_V2), APPLY);
  assert.equal(unreadable.status, "failed");
  assert.match(unreadable.reason, /cannot read the lab admin token file .*absent: ENOENT/);
  assert.equal((await held("payments")).body.generation, 6, "nothing was applied");

  assert.ok(logged.length > 0, "requests were logged");
  assert.ok(logged.every((line) => !line.includes(TOKEN)), "no log line holds the token");
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function rejection(promise: Promise<unknown>): Promise<LabAdminError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  assert.ok(error instanceof LabAdminError, `a LabAdminError, got ${String(error)}`);
  return error;
}

test("the admin API down, failing (5xx) or silent throws a retriable error, so the runtime retries", async () => {
  const closed = await listen(() => undefined);
  await new Promise<void>((resolve) => closed.server.close(() => resolve()));
  const down = await rejection(new LabApplier({ adminUrl: closed.url, tokenFile, logger }).apply(decision(10, ALL_V2), APPLY));
  assert.ok(isRetriable(down));
  assert.match(down.message, /PUT \/admin\/v1\/targets\/lab\/payments to the lab at http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);

  const failing = await listen((_req, res) => { res.writeHead(503, { "content-type": "application/json" }); res.end(JSON.stringify({ error: "scaling failed" })); });
  const unavailable = await rejection(new LabApplier({ adminUrl: failing.url, tokenFile }).apply(decision(10, ALL_V2), APPLY));
  failing.server.close();
  assert.ok(isRetriable(unavailable));
  assert.equal(unavailable.status, 503);
  assert.match(unavailable.message, /the lab answered 503 to PUT .*: scaling failed/);

  const silent = await listen(() => undefined);
  const slow = await rejection(new LabApplier({ adminUrl: silent.url, timeoutMs: 100 }).apply(decision(10, ALL_V2), DRY_RUN));
  silent.server.closeAllConnections();
  silent.server.close();
  assert.ok(isRetriable(slow));
  assert.match(slow.message, /GET .* failed: no answer in time/);
  assert.ok(logged.every((line) => !line.includes(TOKEN)), "no log line holds the token");
});
