// The Consul actuator as a service on the real Kafka and Redis, writing through the Consul emulator's HTTP API: a
// decision in, config entries written with check-and-set, the result on the actuations topic.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startActuator } from "@meshloop/actuator-runtime/testing";
import type { RunningActuator } from "@meshloop/actuator-runtime/testing";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { ActuationResult, Decision, TargetRef } from "@meshloop/contracts";
import { eventually } from "@meshloop/test-harness";
import { consulActuatorConfig, createConsulActuatorService } from "../../src/service/index.ts";
import { ConsulEmulator } from "../consul-emulator/emulator.ts";

const target: TargetRef = { mesh: "consul", namespace: "shop", service: "checkout" };
let emulator: ConsulEmulator;
let actuator: RunningActuator;
let tokenDir: string | undefined;

before(async () => {
  emulator = await ConsulEmulator.start({ tokens: { "svc-token": "write" } });
  emulator.put({ Kind: "service-defaults", Name: "checkout", Protocol: "http" });
  tokenDir = await mkdtemp(join(tmpdir(), "consul-token-"));
  const tokenFile = join(tokenDir, "token");
  await writeFile(tokenFile, "svc-token\n");
  actuator = await startActuator({
    name: "actuator-consul",
    config: consulActuatorConfig,
    create: (context) => createConsulActuatorService(context),
    env: { MESHLOOP_CONSUL_ADDR: emulator.address, MESHLOOP_CONSUL_TOKEN_FILE: tokenFile, MESHLOOP_ACTUATOR_RETRY_INITIAL_DELAY: "10ms" },
  });
});
after(async () => {
  await actuator?.stop();
  await emulator?.close();
  if (tokenDir !== undefined) await rm(tokenDir, { recursive: true, force: true });
});

function decision(ref: TargetRef, generation: number, weights: Record<string, number>): Decision {
  return {
    decisionId: `${targetKey(ref)}@${generation}`,
    target: ref,
    generation,
    desiredState: { ...emptyDesiredState(ref), weights },
    controllers: ["canary"],
    reason: "v2 passed the 10% step",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: Math.floor(generation / 1000),
    createdAt: new Date().toISOString(),
  };
}

const publish = (d: Decision): Promise<ActuationResult> => actuator.publish(d);

function splits(): unknown {
  return emulator.get("service-splitter", "checkout")?.Splits;
}

test("a decision becomes a service-splitter in Consul; a stale one is skipped and changes nothing", async () => {
  const first = await publish(decision(target, 1_000_000, { v1: 90, v2: 10 }));
  assert.equal(first.status, "applied", first.reason);
  assert.equal(first.mesh, "consul");
  assert.deepEqual(first.resources.map((r) => [r.kind, r.status]), [["service-resolver", "applied"], ["service-splitter", "applied"]]);
  assert.deepEqual(splits(), [{ Weight: 90, ServiceSubset: "v1" }, { Weight: 10, ServiceSubset: "v2" }]);
  assert.ok(emulator.requests.filter((r) => r.method === "PUT").every((r) => r.token === "svc-token"), "writes carry the token from the file");

  const index = emulator.index;
  const stale = await publish(decision(target, 500_000, { v1: 0, v2: 100 }));
  assert.equal(stale.status, "stale");
  assert.match(stale.reason, /not newer than 1000000/);
  assert.deepEqual(splits(), [{ Weight: 90, ServiceSubset: "v1" }, { Weight: 10, ServiceSubset: "v2" }], "the stale decision changed nothing");
  assert.equal(emulator.index, index, "nothing was written to Consul");

  const next = await publish(decision(target, 2_000_000, { v1: 50, v2: 50 }));
  assert.equal(next.status, "applied", next.reason);
  assert.deepEqual(splits(), [{ Weight: 50, ServiceSubset: "v1" }, { Weight: 50, ServiceSubset: "v2" }]);
});

test("a decision for another mesh is passed over: no result, nothing written", async () => {
  const istio: TargetRef = { mesh: "istio", namespace: "shop", service: "checkout" };
  const index = emulator.index;
  const other = decision(istio, 3_000_000, { v1: 10, v2: 90 });
  const position = await actuator.send(other);
  // Its partition's committed offset moving past it proves the actuator read it.
  await eventually(
    async () => (await actuator.bus.committedOffsets(`${actuator.prefix}.meshloop-actuator-consul`, actuator.topics.decisions)).some((o) => o.partition === position.partition && o.offset > position.offset),
    "the actuator's commit past the istio decision",
    60_000,
  );
  assert.equal(actuator.results.some((r) => r.decisionId === other.decisionId), false);
  assert.equal(emulator.index, index);
});

test("readiness follows Consul's leader", async () => {
  const url = `${actuator.runtime.ops.address().url}/readyz`;
  const ready = await fetch(url);
  const body = (await ready.json()) as { checks: { name: string; status: string; error?: string }[] };
  assert.equal(ready.status, 200, JSON.stringify(body));
  assert.deepEqual(body.checks.map((c) => [c.name, c.status]).sort(), [["actuator", "ok"], ["consul", "ok"]]);
  emulator.leader = "";
  try {
    const lost = await fetch(url);
    const report = (await lost.json()) as typeof body;
    assert.equal(lost.status, 503);
    assert.match(report.checks.find((c) => c.name === "consul")?.error ?? "", /has no leader/);
  } finally {
    emulator.leader = "127.0.0.1:8300";
  }
});
