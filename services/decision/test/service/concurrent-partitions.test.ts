// The decision service on the in-memory bus and store with the aggregates of many partitions handled at once: what
// the batches share (the action budget of the instance) is taken by each evaluation in turn, so the global budget
// holds however the batches interleave.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createMemoryBus } from "@meshloop/bus";
import type { Consumer } from "@meshloop/bus";
import { encodeEnvelope, fromCloudEventMessage, targetKey, topicNames } from "@meshloop/contracts";
import type { Decision, PauseNotice } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import { createMemoryStore } from "@meshloop/store";
import { eventually } from "@meshloop/test-harness";
import { createDecisionService, decisionConfig } from "../../src/service/index.ts";
import { windowAggregate } from "../support/aggregates.ts";

const TARGETS = 48;
const BUDGET = 5;
// Recent: aggregates far behind the wall clock would pause the loop (the input-delay guardrail).
const T0 = Math.floor(Date.now() / 1000) * 1000 - 5_000;
const bus = createMemoryBus();
const topics = topicNames("");
const decisions: Decision[] = [];
const notices: PauseNotice[] = [];
let runtime: ServiceRuntime;
let reader: Consumer;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "concurrent-"));
  writeFileSync(join(dir, "p.yaml"), "policies:\n  - name: all\n    canary: { enabled: true }\n");
  const env = {
    MESHLOOP_BUS: "memory",
    MESHLOOP_STORE: "memory",
    MESHLOOP_LOG_LEVEL: "warn",
    MESHLOOP_HTTP_PORT: "0",
    MESHLOOP_DECISION_POLICY_FILES: join(dir, "p.yaml"),
    MESHLOOP_DECISION_FROM_BEGINNING: "true",
    MESHLOOP_DECISION_GLOBAL_MAX_ACTIONS_PER_MINUTE: String(BUDGET),
    MESHLOOP_DECISION_CONCURRENT_PARTITIONS: "12",
  };
  runtime = await createServiceRuntime({ name: "decision", config: loadConfig(decisionConfig, { env }), create: (context) => createDecisionService(context, { bus, store: createMemoryStore() }) });
  await runtime.start();
  reader = bus.consumer({
    groupId: "reader",
    topics: [topics.decisions],
    fromBeginning: true,
    handler: async (batch) => {
      for (const r of batch.records) {
        const event = fromCloudEventMessage(r, ["dev.meshloop.decision.v1", "dev.meshloop.pause.v1"]);
        if (event.type === "dev.meshloop.decision.v1") decisions.push(event.data);
        else if (event.type === "dev.meshloop.pause.v1") notices.push(event.data);
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

test("batches of many partitions at once: the global action budget lets exactly its number of actions through", async () => {
  // Every target shows a new version beside its baseline: each wants to act (pin the baseline) in the same second, once
  // its baseline is learned (over three windows). A window per target at a time, so each is one evaluation.
  const metrics = async () => (await fetch(`${runtime.ops.address().url}/metrics`)).text();
  for (let w = 0; w < 3; w++) {
    const records = Array.from({ length: TARGETS }, (_, k) => {
      const target = { mesh: "lab" as const, namespace: "shop", service: `svc-${k}` };
      const aggregate = windowAggregate({ startMs: T0 + w * 1000, windowMs: 1000, target, versions: { v1: { requests: 100, errors: 0 } }, deployed: ["v1", "v2"] });
      return { key: targetKey(target), value: encodeEnvelope("meshloop.aggregate", aggregate) };
    });
    await bus.producer().send(topics.aggregates, records);
    const evaluated = (w + 1) * TARGETS;
    await eventually(async () => new RegExp(`meshloop_decision_evaluations_total ${evaluated}\\b`).test(await metrics()), `all ${TARGETS} targets evaluated on window ${w}`, 10_000);
  }
  await eventually(() => notices.some((n) => n.paused && /budget|actions/i.test(n.reason)), "the global budget's pause notice", 10_000);
  const published = Number(/meshloop_decision_published_total\{type="decision"\} (\d+)/.exec(await metrics())?.[1] ?? "0");
  assert.equal(published, BUDGET, `${published} decisions published for a budget of ${BUDGET}`);
  await eventually(() => decisions.length === BUDGET, "the decisions read back", 10_000);
  assert.equal(new Set(decisions.map((d) => targetKey(d.target))).size, BUDGET, "one each, for different targets");
});
