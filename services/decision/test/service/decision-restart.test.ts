// The decision service on the real Kafka and Redis, killed with SIGKILL in the middle of a canary and restarted:
// it resumes at the same step with the same generation sequence, and no decision id is ever published with two
// contents. The same with the store wiped: generations still increase, and the wipe is detected and logged.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Bus, Consumer } from "@meshloop/bus";
import { createKafkaBus } from "@meshloop/bus";
import { encodeEnvelope, fromCloudEventMessage, targetKey, topicNames, TOPICS } from "@meshloop/contracts";
import type { Decision, WindowAggregate } from "@meshloop/contracts";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, eventually, serviceEnv, uniqueName } from "@meshloop/test-harness";
import { evaluateTarget, initialGlobalState, initialTargetState, loadPolicies } from "../../src/index.ts";
import { poisson, rng, target, trafficWindow, WINDOW_MS } from "../support/aggregates.ts";
import { startDecisionProcess } from "./decision-process.ts";

const POLICY = `policies:
  - name: checkout-canary
    selector: { service: ${target.service} }
    guardrails: { dryRun: true }
    canary: { enabled: true, minRequestsPerStep: 100 }
`;
const WINDOWS = 36;
const KILL_AFTER = 14;

let lease: InfraLease;
let bus: Bus;
const dir = mkdtempSync(join(tmpdir(), "decision-restart-"));
const policyFile = join(dir, "policies.yaml");
writeFileSync(policyFile, POLICY);

before(async () => {
  lease = await acquireInfra();
  bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "decision-restart-test" });
});
after(async () => {
  await bus?.close();
  await lease?.release();
});

/** The windows of a healthy canary run and the decisions the pure core makes on them, one window at a time. */
function reference(startMs: number): { windows: WindowAggregate[]; decisions: Decision[] } {
  const policy = loadPolicies(POLICY, "policies.yaml")[0]!;
  const random = rng(7);
  let state = initialTargetState(target);
  let global = initialGlobalState();
  let weights: Record<string, number> = { v1: 100 };
  const windows: WindowAggregate[] = [];
  const decisions: Decision[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    const deployed = i >= 2 ? ["v1", "v2"] : ["v1"];
    const window = trafficWindow(random, startMs + i * WINDOW_MS, poisson(random, 200 * (WINDOW_MS / 1000)), weights, () => ({ errorRate: 0.01, medianMs: 40, sigma: 0.4 }), deployed);
    windows.push(window);
    // What the service passes: its measured dead time is the window alone (input on time, nothing actuated).
    const evaluation = evaluateTarget(state, [window], policy, global, { deadTimeMs: WINDOW_MS, globalMaxActionsPerMinute: 50, propagationDelayMs: 0 });
    state = evaluation.state;
    global = evaluation.global;
    if (evaluation.decision !== null) {
      decisions.push(evaluation.decision);
      weights = evaluation.decision.desiredState.weights ?? weights;
    }
  }
  return { windows, decisions };
}

interface Run {
  prefix: string;
  topics: ReturnType<typeof topicNames>;
  env(storePrefix: string): Record<string, string>;
  /** Produces one window and waits until the decision service committed past it. */
  feed(window: WindowAggregate): Promise<void>;
  published: { id: string; data: string }[];
  consumer: Consumer;
}

async function run(): Promise<Run> {
  const prefix = uniqueName("dec");
  const topics = topicNames(prefix);
  await bus.ensureTopics((["aggregates", "decisions", "actuations", "control"] as const).map((id) => ({ name: topics[id], partitions: TOPICS[id].partitions })));
  const producer = bus.producer();
  let produced = 0;
  const published: { id: string; data: string }[] = [];
  const consumer = bus.consumer({
    groupId: uniqueName("check"),
    topics: [topics.decisions],
    fromBeginning: true,
    handler: async (batch) => {
      for (const record of batch.records) {
        const event = fromCloudEventMessage(record);
        if (event.type === "dev.meshloop.decision.v1") published.push({ id: event.id, data: JSON.stringify(event.data) });
      }
    },
  });
  await consumer.start();
  return {
    prefix,
    topics,
    published,
    consumer,
    env: (storePrefix) => ({
      ...serviceEnv(lease, prefix, storePrefix),
      MESHLOOP_LOG_LEVEL: "info",
      MESHLOOP_DECISION_POLICY_FILES: policyFile,
      MESHLOOP_DECISION_PROPAGATION_DELAY: "0ms",
      MESHLOOP_DECISION_FROM_BEGINNING: "true",
      MESHLOOP_DECISION_SESSION_TIMEOUT: "6s",
    }),
    async feed(window) {
      await producer.send(topics.aggregates, [{ key: targetKey(window.target), value: encodeEnvelope("meshloop.aggregate", window) }]);
      produced++;
      await eventually(async () => {
        const offsets = await bus.committedOffsets(`${prefix}.meshloop-decision`, topics.aggregates);
        return offsets.reduce((sum, p) => sum + p.offset, 0) >= produced;
      }, `the decision service committed ${produced} aggregates`, 60_000);
    },
  };
}

/** Windows an hour ahead of the clock: input delays are 0, so the measured dead time is the window, as in the reference. */
function futureStart(): number {
  return Math.ceil((Date.now() + 3_600_000) / WINDOW_MS) * WINDOW_MS;
}

function contentsById(published: readonly { id: string; data: string }[]): Map<string, Set<string>> {
  const byId = new Map<string, Set<string>>();
  for (const p of published) byId.set(p.id, (byId.get(p.id) ?? new Set()).add(p.data));
  return byId;
}

test("killed mid-canary and restarted: the same decisions as one uninterrupted run, none with two contents", async () => {
  const expected = reference(futureStart());
  assert.ok(expected.decisions.length >= 4, `the reference canary takes several steps (${expected.decisions.length})`);
  const r = await run();
  const storePrefix = `${r.prefix}:`;
  const first = startDecisionProcess(r.env(storePrefix), join(dir, "first.log"));
  for (const window of expected.windows.slice(0, KILL_AFTER)) await r.feed(window);
  await first.kill("SIGKILL");
  const before = new Set(r.published.map((p) => p.id)).size;
  assert.ok(before >= 1 && before < expected.decisions.length, `killed mid-canary (${before} of ${expected.decisions.length} decisions out)`);
  const second = startDecisionProcess(r.env(storePrefix), join(dir, "second.log"));
  try {
    for (const window of expected.windows.slice(KILL_AFTER)) await r.feed(window);
    await eventually(() => new Set(r.published.map((p) => p.id)).size >= expected.decisions.length, "every decision published", 30_000);
  } finally {
    await second.kill("SIGTERM");
    await r.consumer.stop();
  }
  const byId = contentsById(r.published);
  assert.deepEqual([...byId.keys()], expected.decisions.map((d) => d.decisionId), "the same decisions in the same order");
  for (const decision of expected.decisions) {
    const contents = byId.get(decision.decisionId)!;
    assert.equal(contents.size, 1, `${decision.decisionId} published with one content`);
    assert.deepEqual(JSON.parse([...contents][0]!), JSON.parse(JSON.stringify(decision)), `${decision.decisionId} as the pure core decides it`);
  }
});

test("restarted on a wiped store: the wipe is detected, generations keep increasing, no id has two contents", async () => {
  const expected = reference(futureStart());
  const r = await run();
  const first = startDecisionProcess(r.env(`${r.prefix}:before:`), join(dir, "wipe-first.log"));
  for (const window of expected.windows.slice(0, KILL_AFTER)) await r.feed(window);
  await first.kill("SIGKILL");
  const before = r.published.length;
  // A new key prefix is an empty store, exactly as the service sees a wiped Redis.
  const second = startDecisionProcess(r.env(`${r.prefix}:after:`), join(dir, "wipe-second.log"));
  try {
    for (const window of expected.windows.slice(KILL_AFTER)) await r.feed(window);
    await eventually(() => r.published.length > before, "decisions after the wipe", 30_000);
  } finally {
    await second.kill("SIGTERM");
    await r.consumer.stop();
  }
  assert.match(second.log(), /state store lost the decision service's state/);
  const byId = contentsById(r.published);
  for (const [id, contents] of byId) assert.equal(contents.size, 1, `${id} published with one content`);
  const generations = [...byId.keys()].map((id) => Number(id.split("@")[1]));
  for (let i = 1; i < generations.length; i++) {
    assert.ok(generations[i]! > generations[i - 1]!, `generation ${generations[i]} after ${generations[i - 1]}`);
  }
});
