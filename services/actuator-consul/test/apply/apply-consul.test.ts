// applyConsul against the emulator: the whole read, translate, check-and-set write round, with Consul's own answers.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import { applyConsul, ConsulApiError, ConsulClient } from "../../src/index.ts";
import type { ConsulApplyOptions } from "../../src/index.ts";
import { ConsulEmulator } from "../consul-emulator/emulator.ts";
import { NOW } from "../fixtures.ts";

const target: TargetRef = { mesh: "consul", namespace: "shop", service: "checkout" };
// One try per request: a failure the test injects reaches applyConsul's own handling at once.
const ONE_TRY = { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 };

let emulator: ConsulEmulator;
let client: ConsulClient;
beforeEach(async () => {
  emulator = await ConsulEmulator.start();
  client = new ConsulClient({ address: emulator.address });
  // Splitters need an L7 protocol; the service's owners set it.
  emulator.put({ Kind: "service-defaults", Name: "checkout", Protocol: "http" });
});
afterEach(async () => {
  await emulator.close();
});

function decision(generation: number, parts: Partial<Omit<DesiredState, "target">>): Decision {
  return {
    decisionId: `${targetKey(target)}@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), ...parts },
    controllers: ["canary"],
    reason: "v2 passed the 10% step",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 0,
    createdAt: new Date(NOW).toISOString(),
  };
}

function options(overrides: Partial<ConsulApplyOptions> = {}): ConsulApplyOptions {
  return { client, mode: "apply", nowMs: NOW, retry: ONE_TRY, ...overrides };
}

function writes(): { method: string; path: string; query: Record<string, string>; body: unknown }[] {
  return emulator.requests.filter((r) => r.method === "PUT" || r.method === "DELETE");
}

test("weights become a service-splitter over the resolver's subsets, both marked as meshloop's", async () => {
  const outcome = await applyConsul(decision(1, { weights: { v1: 90, v2: 10 } }), options());
  assert.equal(outcome.status, "applied", outcome.reason);
  assert.equal(outcome.appliedAt, new Date(NOW).toISOString());
  assert.deepEqual(outcome.resources.map((r) => [r.kind, r.name, r.status]), [["service-resolver", "checkout", "applied"], ["service-splitter", "checkout", "applied"]]);
  const splitter = emulator.get("service-splitter", "checkout")!;
  assert.deepEqual(splitter.Splits, [{ Weight: 90, ServiceSubset: "v1" }, { Weight: 10, ServiceSubset: "v2" }]);
  assert.equal((splitter.Meta as Record<string, string>)["managed-by"], "meshloop");
  assert.deepEqual(Object.keys(emulator.get("service-resolver", "checkout")!.Subsets as object).sort(), ["v1", "v2"]);
  assert.ok(writes().every((w) => w.query.cas === "0"), "new entries are created with cas 0, never blindly");
});

test("the same decision again writes nothing", async () => {
  const first = decision(1, { weights: { v1: 50, v2: 50 } });
  assert.equal((await applyConsul(first, options())).status, "applied");
  const index = emulator.index;
  const before = writes().length;
  const again = await applyConsul({ ...first, generation: 2 }, options());
  assert.equal(again.status, "applied");
  assert.deepEqual(again.resources, []);
  assert.match(again.reason, /already holds the desired state; nothing written/);
  assert.equal(writes().length, before, "no PUT or DELETE");
  assert.equal(emulator.index, index);
});

test("another writer between read and write: check-and-set fails, everything is read again, their change is kept and ours applied", async () => {
  emulator.put({ Kind: "service-resolver", Name: "checkout", ConnectTimeout: "5s" });
  emulator.beforeNextWrite(() => {
    const theirs = emulator.get("service-resolver", "checkout")!;
    emulator.put({ ...theirs, ConnectTimeout: "7s", RequestTimeout: "20s" });
  });
  const outcome = await applyConsul(decision(1, { weights: { v1: 80, v2: 20 } }), options());
  assert.equal(outcome.status, "applied", outcome.reason);
  const resolver = emulator.get("service-resolver", "checkout")!;
  assert.equal(resolver.ConnectTimeout, "7s", "their change survived");
  assert.equal(resolver.RequestTimeout, "20s");
  assert.deepEqual(Object.keys(resolver.Subsets as object).sort(), ["v1", "v2"], "our subsets are in");
  assert.deepEqual((emulator.get("service-splitter", "checkout")!.Splits as unknown[]).length, 2);
  const resolverWrites = writes().filter((w) => w.method === "PUT" && (w.body as { Kind?: string }).Kind === "service-resolver");
  assert.equal(resolverWrites.length, 2, "written twice: refused once by check-and-set, then after reading again");
  assert.ok(Number(resolverWrites[1]!.query.cas) > Number(resolverWrites[0]!.query.cas), "the second try uses the index read again");
});

test("a 500 before anything is written is thrown retriable, and Consul is untouched", async () => {
  const before = emulator.all();
  emulator.failNext(500);
  const error = await applyConsul(decision(1, { weights: { v1: 90, v2: 10 } }), options()).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof ConsulApiError, String(error));
  assert.equal(error.retriable, true);
  assert.equal(error.status, 500);
  emulator.failNext(503, { method: "PUT" });
  const onWrite = await applyConsul(decision(1, { weights: { v1: 90, v2: 10 } }), options()).then(() => null, (e: unknown) => e);
  assert.ok(onWrite instanceof ConsulApiError && onWrite.retriable && onWrite.status === 503, "the first write failing is still nothing written");
  assert.deepEqual(emulator.all(), before);
});

test("a failure after a partial write is not thrown: the outcome is failed and names what was written", async () => {
  emulator.beforeNextWrite(() => emulator.failNext(500, { method: "PUT" }));
  const outcome = await applyConsul(decision(1, { weights: { v1: 90, v2: 10 } }), options());
  assert.equal(outcome.status, "failed");
  assert.match(outcome.reason, /written before the failure: service-resolver checkout/);
  assert.deepEqual(outcome.resources.map((r) => [r.kind, r.status]), [["service-resolver", "applied"], ["service-splitter", "failed"]]);
  assert.notEqual(emulator.get("service-resolver", "checkout"), undefined);
  assert.equal(emulator.get("service-splitter", "checkout"), undefined);
});

test("dry-run reads and translates but writes nothing", async () => {
  const before = emulator.all();
  const outcome = await applyConsul(decision(1, { weights: { v1: 90, v2: 10 } }), options({ mode: "dry-run" }));
  assert.equal(outcome.status, "dry-run");
  assert.match(outcome.reason, /would write service-resolver checkout, service-splitter checkout/);
  assert.ok(outcome.resources.length === 2 && outcome.resources.every((r) => r.status === "skipped" && r.message === "dry run"));
  assert.deepEqual(writes(), []);
  assert.deepEqual(emulator.all(), before);
});
