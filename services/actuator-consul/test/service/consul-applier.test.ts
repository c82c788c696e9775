import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { Decision, TargetRef } from "@meshloop/contracts";
import { ConsulApiError, ConsulClient } from "../../src/index.ts";
import { ConsulApplier } from "../../src/service/index.ts";
import { ConsulEmulator } from "../consul-emulator/emulator.ts";
import { NOW } from "../fixtures.ts";

const scope = { namespace: "team-a", partition: "p1" };
let emulator: ConsulEmulator;
before(async () => {
  emulator = await ConsulEmulator.start();
  emulator.put({ Kind: "service-defaults", Name: "cart", Protocol: "grpc" }, scope);
});
after(async () => {
  await emulator.close();
});

function decision(ref: TargetRef, weights: Record<string, number>): Decision {
  return {
    decisionId: `${targetKey(ref)}@1`,
    target: ref,
    generation: 1,
    desiredState: { ...emptyDesiredState(ref), weights },
    controllers: ["canary"],
    reason: "v2 passed the 10% step",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 0,
    createdAt: new Date(NOW).toISOString(),
  };
}

test("reads and writes in the configured Enterprise scope; appliedAt is the applier's clock; dry-run changes nothing", async () => {
  const client = new ConsulClient({ address: emulator.address, ...scope });
  const applier = new ConsulApplier({ client, read: scope, now: () => NOW });
  assert.equal(applier.mesh, "consul");
  const cart: TargetRef = { mesh: "consul", namespace: "shop", service: "cart" };
  const signal = new AbortController().signal;

  const dry = await applier.apply(decision(cart, { v1: 70, v2: 30 }), { mode: "dry-run", signal });
  assert.equal(dry.status, "dry-run", dry.reason);
  assert.equal(emulator.get("service-splitter", "cart", scope), undefined);

  const outcome = await applier.apply(decision(cart, { v1: 70, v2: 30 }), { mode: "apply", signal });
  assert.equal(outcome.status, "applied", outcome.reason);
  assert.equal(outcome.appliedAt, new Date(NOW).toISOString());
  assert.deepEqual(outcome.resources.map((r) => [r.kind, r.namespace]), [["service-resolver", "team-a"], ["service-splitter", "team-a"]]);
  const splitter = emulator.get("service-splitter", "cart", scope)!;
  assert.deepEqual([splitter.Namespace, splitter.Partition], ["team-a", "p1"]);
  assert.equal(emulator.get("service-splitter", "cart"), undefined, "nothing in the default scope");
});

test("the shutdown signal reaches the requests: once aborted, a transient failure is not retried and nothing is written", async () => {
  const client = new ConsulClient({ address: emulator.address });
  const applier = new ConsulApplier({ client, retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 1 } });
  const writesBefore = emulator.requests.filter((r) => r.method === "PUT").length;
  emulator.failNext(503);
  await assert.rejects(
    applier.apply(decision({ mesh: "consul", namespace: "shop", service: "orders" }, { v1: 100 }), { mode: "apply", signal: AbortSignal.abort() }),
    (e: unknown) => e instanceof ConsulApiError && e.retriable && e.status === 503,
  );
  assert.equal(emulator.requests.filter((r) => r.method === "PUT").length, writesBefore);
});
