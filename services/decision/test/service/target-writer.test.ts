import assert from "node:assert/strict";
import { test } from "node:test";
import { createMemoryStore } from "@meshloop/store";
import { TargetStates, TargetWriter } from "../../src/service/index.ts";
import type { OutboxMessage } from "../../src/service/index.ts";
import { emptyDesiredState } from "@meshloop/contracts";
import type { Decision } from "@meshloop/contracts";
import { target } from "../support/aggregates.ts";

function decision(generation: number): Decision {
  return {
    decisionId: `lab/shop/checkout@${generation}`,
    target,
    generation,
    desiredState: emptyDesiredState(target),
    controllers: ["operator"],
    reason: "test",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 1_000,
    createdAt: new Date(1_000).toISOString(),
  };
}

test("a publish that fails after the state was saved is published by the next update, with the same content", async () => {
  const states = new TargetStates(createMemoryStore());
  const sent: OutboxMessage[] = [];
  let failNext = true;
  const writer = new TargetWriter(states, async (messages) => {
    if (failNext) {
      failNext = false;
      throw new Error("broker away");
    }
    sent.push(...messages);
  }, () => undefined);
  const first = decision(1_000_000);
  await assert.rejects(writer.update(target, (state) => ({ state: { ...state, generation: first.generation }, decision: first, notices: [] })), /broker away/);
  assert.equal(sent.length, 0);
  // The next update of the target, whatever it is, flushes the outbox first.
  await writer.update(target, () => null);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.headers["ce_id"], first.decisionId);
  assert.deepEqual(JSON.parse(sent[0]!.value), first);
  const loaded = await states.load(target);
  assert.equal(loaded.outbox.length, 0, "the outbox is cleared once published");
  assert.equal(loaded.state.generation, first.generation);
});

test("concurrent writers lose nothing: the one whose write was preceded reads again and redoes its work", async () => {
  const states = new TargetStates(createMemoryStore());
  let conflicts = 0;
  const writer = (): TargetWriter => new TargetWriter(states, async () => undefined, () => conflicts++);
  await Promise.all([
    writer().update(target, (state) => ({ state: { ...state, released: true }, decision: null, notices: [] })),
    writer().update(target, (state) => ({ state: { ...state, lastWindowEndMs: 42 }, decision: null, notices: [] })),
  ]);
  const { state } = await states.load(target);
  assert.equal(state.lastWindowEndMs, 42);
  assert.equal(state.released, true, "both changes survived");
  assert.equal(conflicts, 1);
});
