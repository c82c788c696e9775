// The lab actuator as a service on the real Kafka and Redis against a real lab in this process: a decision in, the
// lab's route table changed through its admin API (with the bearer token from a file), the result on actuations.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startActuator } from "@meshloop/actuator-runtime/testing";
import type { RunningActuator } from "@meshloop/actuator-runtime/testing";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { Decision, TargetRef } from "@meshloop/contracts";
import type { Lab, Topology } from "@meshloop/lab";
import { startLab } from "@meshloop/lab";
import { createLabActuatorService, labActuatorConfig } from "../../src/service/index.ts";

const TOKEN = "lab-actuator-token-0815";
const target: TargetRef = { mesh: "lab", namespace: "lab", service: "payments" };
const FAST = { medianMs: 1, p99Ms: 3 };
const topology: Topology = {
  mesh: "lab",
  namespace: "lab",
  entry: "payments",
  services: [{ name: "payments", versions: [{ version: "v1", instances: 1 }, { version: "v2", instances: 1 }], instrumented: true, latency: FAST, routes: [{ method: "POST", path: "/pay", calls: [] }] }],
};
let lab: Lab;
let actuator: RunningActuator;

before(async () => {
  lab = await startLab({ topology, ingestUrl: null, adminToken: TOKEN });
  const tokenFile = join(mkdtempSync(join(tmpdir(), "lab-actuator-")), "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  actuator = await startActuator({
    name: "actuator-lab",
    config: labActuatorConfig,
    create: (context) => createLabActuatorService(context),
    env: { MESHLOOP_LAB_ADMIN_URL: lab.adminUrl, MESHLOOP_LAB_ADMIN_TOKEN_FILE: tokenFile },
  });
});
after(async () => {
  await actuator?.stop();
  await lab?.stop();
});

function decision(generation: number, weights: Record<string, number>, dryRun = false): Decision {
  return {
    decisionId: `${targetKey(target)}@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), weights, requestTimeoutMs: 2_000 },
    controllers: ["canary"],
    reason: "v2 passed the step",
    evidence: [],
    requiresApproval: false,
    dryRun,
    windowEndMs: Math.floor(generation / 1000),
    createdAt: new Date().toISOString(),
  };
}

const publish = (d: Decision) => actuator.publish(d);

async function held(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${lab.adminUrl}/admin/v1/targets/lab/payments`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test("a decision for a lab target changes the lab's route table; a dry run and a stale one change nothing", async () => {
  const dry = await publish(decision(500_000, { v1: 50, v2: 50 }, true));
  assert.equal(dry.status, "dry-run", dry.reason);
  assert.equal((await held()).status, 404, "the dry run changed nothing");

  const first = decision(1_000_000, { v1: 10, v2: 90 });
  const applied = await publish(first);
  assert.equal(applied.status, "applied", applied.reason);
  assert.equal(applied.mesh, "lab");
  assert.deepEqual(applied.resources, [{ kind: "route-table", name: "lab/payments", status: "applied" }]);
  assert.ok(applied.appliedAt !== undefined);
  assert.deepEqual(await held(), { status: 200, body: { generation: 1_000_000, desiredState: first.desiredState } });

  const stale = await publish(decision(900_000, { v1: 100, v2: 0 }));
  assert.equal(stale.status, "stale", stale.reason);
  assert.deepEqual((await held()).body, { generation: 1_000_000, desiredState: first.desiredState }, "the stale decision changed nothing");

  const again = await publish(decision(2_000_000, { v1: 10, v2: 90 }));
  assert.equal(again.status, "applied", again.reason);
  assert.deepEqual(again.resources.map((r) => r.status), ["unchanged"], "the same desired state changes no route");
  assert.equal((await held()).body.generation, 2_000_000);
});
