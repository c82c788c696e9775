// Reversibility against the Consul emulator: found entries carry meshloop's record in their Meta, written by the same
// check-and-set as the change, and a release writes them back as found; entries meshloop created are deleted.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import { applyConsul, ConsulClient } from "../../src/index.ts";
import type { ConsulApplyOutcome } from "../../src/index.ts";
import { ConsulEmulator } from "../consul-emulator/emulator.ts";
import type { Entry } from "../consul-emulator/entry-validation.ts";
import { NOW, originals } from "../fixtures.ts";
import type { ConfigEntry } from "../../src/index.ts";

const target: TargetRef = { mesh: "consul", namespace: "shop", service: "checkout" };
const RETRIES = { attempts: 2, perTryTimeoutMs: null, retryOn: ["5xx" as const], retriableStatusCodes: [], budget: null };

let emulator: ConsulEmulator;
let client: ConsulClient;
let generation = 0;
beforeEach(async () => {
  emulator = await ConsulEmulator.start();
  client = new ConsulClient({ address: emulator.address });
});
afterEach(async () => {
  await emulator.close();
});

function apply(parts: Partial<Omit<DesiredState, "target">>): Promise<ConsulApplyOutcome> {
  generation++;
  const decision: Decision = {
    decisionId: `${targetKey(target)}@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), ...parts },
    controllers: ["canary"],
    reason: "test",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 0,
    createdAt: new Date(NOW).toISOString(),
  };
  return applyConsul(decision, { client, mode: "apply", nowMs: NOW, retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 } });
}

/** An entry as stored, without the Raft indexes, for comparing with what was seeded. */
function body(kind: string): Record<string, unknown> | undefined {
  const entry = emulator.get(kind, "checkout");
  if (entry === undefined) return undefined;
  const { CreateIndex: _c, ModifyIndex: _m, ...rest } = entry;
  return rest;
}

const FOUND: Entry[] = [
  { Kind: "service-defaults", Name: "checkout", Protocol: "http", Meta: { team: "payments" } },
  { Kind: "service-resolver", Name: "checkout", DefaultSubset: "stable", Subsets: { stable: { Filter: "Service.Meta.track == stable" } } },
  { Kind: "service-splitter", Name: "checkout", Splits: [{ Weight: 100, ServiceSubset: "stable" }] },
  { Kind: "service-router", Name: "checkout", Routes: [{ Match: { HTTP: { PathPrefix: "/admin" } }, Destination: { RequestTimeout: "60s" } }, { Match: { HTTP: { PathPrefix: "/" } }, Destination: { NumRetries: 1 } }] },
];

test("found entries merged, merged again and released are as they were, their records gone, all by check-and-set", async () => {
  for (const entry of FOUND) emulator.put(entry);
  const first = await apply({ weights: { v1: 80, v2: 20 }, retries: RETRIES, requestTimeoutMs: 1500, rateLimit: { requestsPerSecond: 40 } });
  assert.equal(first.status, "applied", first.reason);
  assert.deepEqual(originals(emulator.get("service-splitter", "checkout") as ConfigEntry), { Splits: [{ Weight: 100, ServiceSubset: "stable" }] });
  assert.deepEqual(originals(emulator.get("service-router", "checkout") as ConfigEntry), { "Routes[catch-all].Destination": { NumRetries: 1 } });

  const second = await apply({ weights: { v1: 30, v2: 70 }, retries: RETRIES, requestTimeoutMs: 2500, rateLimit: { requestsPerSecond: 80 } });
  assert.equal(second.status, "applied", second.reason);
  assert.deepEqual(originals(emulator.get("service-splitter", "checkout") as ConfigEntry), { Splits: [{ Weight: 100, ServiceSubset: "stable" }] }, "the second merge kept the original");
  assert.deepEqual(originals(emulator.get("service-defaults", "checkout") as ConfigEntry), { RateLimits: undefined });

  const writesBefore = emulator.requests.length;
  const released = await apply({});
  assert.equal(released.status, "applied", released.reason);
  assert.deepEqual(released.resources.map((r) => [r.kind, r.status]), [["service-splitter", "applied"], ["service-resolver", "applied"], ["service-router", "applied"], ["service-defaults", "applied"]]);
  const puts = emulator.requests.slice(writesBefore).filter((r) => r.method === "PUT");
  assert.ok(puts.length === 4 && puts.every((r) => r.query.cas !== undefined && r.query.cas !== "0"), "each restore is a check-and-set against the index read");
  for (const entry of FOUND) assert.deepEqual(body(entry.Kind), entry, `${entry.Kind} is as found`);

  const again = await apply({});
  assert.deepEqual(again.resources, [], "nothing left to undo");
});

test("entries meshloop created are deleted on release; a found service-defaults gets its own back", async () => {
  emulator.put(FOUND[0]!);
  assert.equal((await apply({ weights: { v1: 90, v2: 10 }, requestTimeoutMs: 800 })).status, "applied");
  assert.notEqual(emulator.get("service-splitter", "checkout"), undefined);
  const released = await apply({});
  assert.equal(released.status, "applied", released.reason);
  assert.deepEqual(released.resources.map((r) => [r.kind, r.message]), [["service-splitter", "deleted"], ["service-resolver", "deleted"], ["service-router", "deleted"]]);
  assert.deepEqual(emulator.all().map((e) => e.Kind), ["service-defaults"]);
  assert.deepEqual(body("service-defaults"), FOUND[0], "untouched: meshloop changed nothing in it");
});

test("a user's change since meshloop's write is kept on release, and the outcome says so", async () => {
  for (const entry of FOUND.slice(0, 3)) emulator.put(entry);
  assert.equal((await apply({ weights: { v1: 80, v2: 20 } })).status, "applied");
  const theirs = emulator.get("service-splitter", "checkout")!;
  emulator.put({ ...theirs, Splits: [{ Weight: 50, ServiceSubset: "stable" }, { Weight: 50, ServiceSubset: "v2" }] });
  const released = await apply({});
  assert.equal(released.status, "applied", released.reason);
  assert.match(released.reason, /service-splitter checkout: Splits changed since meshloop wrote it; kept as changed/);
  assert.match(released.reason, /service-resolver checkout: subset v2 is still named by the splitter, so it stays/);
  assert.deepEqual(body("service-splitter"), { Kind: "service-splitter", Name: "checkout", Splits: [{ Weight: 50, ServiceSubset: "stable" }, { Weight: 50, ServiceSubset: "v2" }] });
  assert.deepEqual(Object.keys((body("service-resolver")!.Subsets as object) ?? {}), ["stable", "v2"]);
  assert.equal(body("service-resolver")!.Meta, undefined, "the record is gone");
});
