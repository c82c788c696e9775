import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { KubeEmulator } from "@meshloop/kube-emulator";
import { KubeClient } from "../../src/index.ts";
import { runWrites } from "../../src/actuation/index.ts";
import type { KubeWriteLike } from "../../src/actuation/index.ts";

let emulator: KubeEmulator;
let kube: KubeClient;

before(async () => {
  emulator = new KubeEmulator();
  kube = new KubeClient({ baseUrl: await emulator.start(), retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 } });
});
after(() => emulator.stop());

function rule(name: string, maxConnections: number): KubeWriteLike {
  return {
    action: "apply",
    object: { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name, namespace: "shop" }, spec: { host: name, trafficPolicy: { connectionPool: { tcp: { maxConnections } } } } } as never,
  };
}

test("dry run checks every write with the server and writes nothing; apply then writes, and again reports unchanged", async () => {
  const writes = [rule("a", 10), rule("b", 20)];
  const dry = await runWrites(kube, writes, "dry-run");
  assert.equal(dry.kind, "done");
  assert.deepEqual(dry.results.map((r) => r.status), ["skipped", "skipped"]);
  assert.equal(emulator.object("networking.istio.io/v1", "DestinationRule", "shop", "a"), null);
  const applied = await runWrites(kube, writes, "apply");
  assert.deepEqual(applied.kind === "done" ? [applied.failure, applied.results.map((r) => r.status)] : null, [null, ["applied", "applied"]]);
  const again = await runWrites(kube, writes, "apply");
  assert.deepEqual(again.results.map((r) => r.status), ["unchanged", "unchanged"]);
});

test("a write the server rejects in the dry run stops everything before any change, and says which one", async () => {
  const off = emulator.onRequest((r) => (r.path.includes("/destinationrules/bad") ? { status: 422, reason: "Invalid", message: "spec.host: Required value" } : undefined));
  try {
    const run = await runWrites(kube, [rule("c", 1), rule("bad", 2), rule("d", 3)], "apply");
    assert.equal(run.kind, "done");
    assert.match(run.kind === "done" ? (run.failure ?? "") : "", /dry run of apply of DestinationRule shop\/bad was rejected: 422/);
    assert.deepEqual(run.results.map((r) => r.status), ["skipped", "failed", "skipped"]);
    assert.equal(emulator.object("networking.istio.io/v1", "DestinationRule", "shop", "c"), null, "nothing written");
  } finally {
    off();
  }
});
