// The decision service on the in-memory bus and store: a target that goes silent while others go on is evaluated
// at the event-time watermark, so its canary moves on and its no-data timeout fires without new windows of its own.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createMemoryBus } from "@meshloop/bus";
import type { Consumer } from "@meshloop/bus";
import { encodeEnvelope, fromCloudEventMessage, targetKey, toCloudEventMessage, topicNames } from "@meshloop/contracts";
import type { ActuationResult, Decision, TargetRef } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import { createMemoryStore } from "@meshloop/store";
import { eventually } from "@meshloop/test-harness";
import { createDecisionService, decisionConfig } from "../../src/service/index.ts";
import { windowAggregate } from "../support/aggregates.ts";

const WINDOW = 1000;
const checkout: TargetRef = { mesh: "lab", namespace: "shop", service: "checkout" };
const other: TargetRef = { mesh: "lab", namespace: "shop", service: "other" };
// Recent: aggregates far behind the wall clock would pause the loop (the input-delay guardrail).
const T0 = Math.floor(Date.now() / 1000) * 1000 - 5_000;
const bus = createMemoryBus();
const topics = topicNames("");
const decisions: Decision[] = [];
let runtime: ServiceRuntime;
let reader: Consumer;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "tick-"));
  writeFileSync(join(dir, "p.yaml"), "policies:\n  - name: c\n    selector: { service: checkout }\n    guardrails: { cooldown: 1s }\n    canary: { enabled: true, noDataTimeout: 20s }\n");
  const env = { MESHLOOP_BUS: "memory", MESHLOOP_STORE: "memory", MESHLOOP_LOG_LEVEL: "warn", MESHLOOP_HTTP_PORT: "0", MESHLOOP_DECISION_POLICY_FILES: join(dir, "p.yaml"), MESHLOOP_DECISION_PROPAGATION_DELAY: "0ms", MESHLOOP_DECISION_FROM_BEGINNING: "true" };
  runtime = await createServiceRuntime({ name: "decision", config: loadConfig(decisionConfig, { env }), create: (context) => createDecisionService(context, { bus, store: createMemoryStore() }) });
  await runtime.start();
  reader = bus.consumer({
    groupId: "reader",
    topics: [topics.decisions],
    fromBeginning: true,
    handler: async (batch) => {
      for (const r of batch.records) {
        const event = fromCloudEventMessage(r);
        if (event.type === "dev.meshloop.decision.v1") decisions.push(event.data);
      }
    },
  });
  await reader.start();
});
after(async () => {
  await reader?.stop();
  await runtime?.stop();
  await bus.close();
});

async function window(target: TargetRef, i: number, versions: Record<string, { requests: number; errors: number }>): Promise<void> {
  const aggregate = windowAggregate({ startMs: T0 + i * WINDOW, windowMs: WINDOW, versions, target });
  await bus.producer().send(topics.aggregates, [{ key: targetKey(target), value: encodeEnvelope("meshloop.aggregate", aggregate) }]);
}

test("a silent target's canary advances and then times out on the watermark of the others' windows", async () => {
  // checkout runs v1 (the baseline is learned over three windows), then shows v2 beside it: the pin.
  await window(checkout, 0, { v1: { requests: 100, errors: 0 } });
  await window(checkout, 1, { v1: { requests: 100, errors: 0 } });
  await window(checkout, 2, { v1: { requests: 100, errors: 0 }, v2: { requests: 0, errors: 0 } });
  await eventually(() => decisions.length >= 1, "the pin", 10_000);
  const pin = decisions[0]!;
  assert.deepEqual(pin.desiredState.weights, { v1: 100, v2: 0 });
  const applied: ActuationResult = { decisionId: pin.decisionId, target: checkout, generation: pin.generation, mesh: "lab", status: "applied", reason: "ok", resources: [], unsupported: [], observedAt: new Date(T0 + 3500).toISOString(), appliedAt: new Date(T0 + 3500).toISOString() };
  await bus.producer().send(topics.actuations, [toCloudEventMessage({ type: "dev.meshloop.actuation.v1", id: `${pin.decisionId}:a`, source: "/test", data: applied })]);
  const metrics = async () => (await fetch(`${runtime.ops.address().url}/metrics`)).text();
  await eventually(async () => /meshloop_decision_actuations_total\{status="applied"\} 1/.test(await metrics()), "the pin known as applied", 10_000);
  // From now on only `other` speaks; checkout is silent. The cooldown is at least the measured dead time, which
  // these aggregates (5 s behind the wall clock) make about 6 s, and the windows may come in one batch (one tick):
  // enough of them that the tick's watermark is past the cooldown however the wall clock went.
  for (let i = 3; i <= 13; i++) await window(other, i, { v1: { requests: 50, errors: 0 } });
  await eventually(() => decisions.length >= 2, "the first step, decided on a tick", 10_000);
  assert.match(decisions[1]!.reason, /starts at 5%/);
  assert.ok(decisions[1]!.windowEndMs > T0 + 3 * WINDOW, "at the watermark, not at checkout's last window");
  for (let i = 14; i <= 46; i++) await window(other, i, { v1: { requests: 50, errors: 0 } });
  await eventually(() => decisions.length >= 3, "the rollback, decided on a tick", 10_000);
  assert.match(decisions[2]!.reason, /rolling back to v1/);
  assert.deepEqual(decisions[2]!.desiredState.weights, { v1: 100, v2: 0 });
  assert.match(await metrics(), /meshloop_decision_ticks_total [1-9]/);
});
