// One scenario for the actuator loop, run on the in-memory adapters and on the real Kafka and Redis.
import assert from "node:assert/strict";
import type { Bus, ConsumedRecord, Consumer } from "@meshloop/bus";
import { emptyDesiredState, fromCloudEventMessage, targetKey, toCloudEventMessage } from "@meshloop/contracts";
import type { ActuationResult, Decision, Mesh, TargetRef } from "@meshloop/contracts";
import { MeshloopError } from "@meshloop/errors";
import { createLogger, createMetrics } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import { eventually, uniqueName } from "@meshloop/test-harness";
import { Actuator } from "../src/index.ts";
import type { ApplyOptions, ApplyOutcome, MeshApplier } from "../src/index.ts";

const target: TargetRef = { mesh: "lab", namespace: "shop", service: "payments" };

export function decision(generation: number, extra: Partial<Decision> = {}, on: TargetRef = target): Decision {
  return {
    decisionId: `${targetKey(on)}@${generation}`,
    target: on,
    generation,
    desiredState: { ...emptyDesiredState(on), weights: { v1: 90, v2: 10 } },
    controllers: ["canary"],
    reason: "test",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: Math.floor(generation / 1000),
    createdAt: new Date(0).toISOString(),
    ...extra,
  };
}

/** A mesh that records what it was asked, fails transiently when told to, and answers like a real applier. */
export class RecordingApplier implements MeshApplier {
  readonly mesh: Mesh = "lab";
  readonly calls: Array<{ generation: number; mode: ApplyOptions["mode"] }> = [];
  transientFailures = new Map<number, number>();

  apply(d: Decision, options: ApplyOptions): Promise<ApplyOutcome> {
    this.calls.push({ generation: d.generation, mode: options.mode });
    const left = this.transientFailures.get(d.generation) ?? 0;
    if (left > 0) {
      this.transientFailures.set(d.generation, left - 1);
      return Promise.reject(new MeshloopError("admin API unavailable", { retriable: true }));
    }
    const status = options.mode === "dry-run" ? "dry-run" : "applied";
    return Promise.resolve({ status, reason: status, resources: [{ kind: "RouteTable", name: d.target.service, namespace: d.target.namespace, status: options.mode === "dry-run" ? "skipped" : "applied" }], unsupported: [] });
  }
}

export async function actuatorScenario(bus: Bus, store: StateStore): Promise<void> {
  const prefix = uniqueName("act");
  const decisions = `${prefix}.decisions`;
  const actuations = `${prefix}.actuations`;
  await bus.ensureTopics([{ name: decisions, partitions: 2 }, { name: actuations, partitions: 2 }]);
  const results: ActuationResult[] = [];
  const reader: Consumer = bus.consumer({
    groupId: uniqueName("reader"),
    topics: [actuations],
    fromBeginning: true,
    handler: async (batch) => {
      for (const record of batch.records as ConsumedRecord[]) results.push(fromCloudEventMessage(record, "dev.meshloop.actuation.v1").data);
    },
  });
  await reader.start();
  const applier = new RecordingApplier();
  const metrics = createMetrics({ defaultMetrics: false });
  const start = async (groupId: string) => {
    const actuator = new Actuator({
      applier, bus, store, decisionsTopic: decisions, actuationsTopic: actuations, groupId, mode: "apply",
      retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
      logger: createLogger({ service: "test", level: "silent" }), metrics,
    });
    await actuator.start();
    return actuator;
  };
  const producer = bus.producer();
  const publish = (d: Decision) => producer.send(decisions, [toCloudEventMessage({ type: "dev.meshloop.decision.v1", id: d.decisionId, source: "/test", data: d })]);
  const resultFor = async (generation: number, mesh: Mesh = "lab"): Promise<ActuationResult> => {
    await eventually(() => results.some((r) => r.generation === generation && r.mesh === mesh), `the result of generation ${generation}`, 30_000);
    return results.find((r) => r.generation === generation && r.mesh === mesh)!;
  };

  const first = await start(uniqueName("actuator-lab"));
  await publish(decision(2_000));
  assert.equal((await resultFor(2_000)).status, "applied");
  await publish(decision(1_000));
  assert.equal((await resultFor(1_000)).status, "stale", "an older generation is stale");
  await publish(decision(3_000, { requiresApproval: true }));
  assert.equal((await resultFor(3_000)).status, "awaiting-approval");
  await publish(decision(4_000, { dryRun: true }));
  const dry = await resultFor(4_000);
  assert.equal(dry.status, "dry-run");
  assert.equal(dry.appliedAt, undefined);
  applier.transientFailures.set(5_000, 2);
  await publish(decision(5_000));
  assert.equal((await resultFor(5_000)).status, "applied", "two transient failures, applied on the third try");
  applier.transientFailures.set(6_000, 5);
  await publish(decision(6_000));
  const failed = await resultFor(6_000);
  assert.equal(failed.status, "failed");
  assert.match(failed.reason, /admin API unavailable/);
  await producer.send(decisions, [{ key: targetKey(target), value: Buffer.from("not a cloud event"), headers: {} }]);
  await publish(decision(7_000, {}, { mesh: "istio", namespace: "shop", service: "payments" }));
  await publish(decision(8_000));
  assert.equal((await resultFor(8_000)).status, "applied", "a malformed record and another mesh's decision do not stop the loop");
  assert.ok(!results.some((r) => r.mesh === "istio"), "another mesh's decision is not this actuator's");
  const appliedOnce = applier.calls.filter((c) => c.mode === "apply").map((c) => c.generation);
  assert.deepEqual([...new Set(appliedOnce)], [2_000, 5_000, 6_000, 8_000]);
  assert.deepEqual(applier.calls.filter((c) => c.mode === "dry-run").map((c) => c.generation), [4_000]);
  await first.stop();

  // A replay of the whole topic after a restart (a new group reads from the start): nothing is applied twice.
  const calls = applier.calls.length;
  const before = results.length;
  const second = await start(uniqueName("actuator-lab-replay"));
  await eventually(() => results.filter((r) => r.generation === 8_000).length >= 2, "the replay reached the end", 30_000);
  const replayed = results.slice(before);
  assert.deepEqual(replayed.filter((r) => r.status === "applied"), [], "nothing applied again");
  assert.ok(replayed.filter((r) => r.generation === 2_000).every((r) => r.status === "stale"));
  // Everything is at or below the last generation carried out (8000), the failed and dry-run ones too: stale.
  assert.deepEqual(applier.calls.slice(calls), [], "the applier was not called again");
  assert.ok(replayed.every((r) => r.status === "stale"), replayed.map((r) => `${r.generation}:${r.status}`).join(","));
  await second.stop();
  await reader.stop();
  await producer.close();
}
