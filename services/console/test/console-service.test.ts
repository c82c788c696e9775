// The console as a service on the in-memory bus and store: what it reads shows in /api/state and on the event
// stream, and POST /api/control publishes the CLI's control command only when authorised.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createMemoryBus } from "@meshloop/bus";
import type { Bus } from "@meshloop/bus";
import { targetKey } from "@meshloop/contracts";
import { createMemoryStore } from "@meshloop/store";
import type { StateStore } from "@meshloop/store";
import { eventually } from "@meshloop/test-harness";
import type { ConsoleSnapshot } from "../src/service/index.ts";
import { GLOBAL_STATE_KEY } from "../src/service/index.ts";
import type { RunningConsole } from "./support/console-harness.ts";
import { openEvents, readControl, startConsole, tokenFile, topics } from "./support/console-harness.ts";
import { actuation, actuationRecord, aggregate, aggregateRecord, decision, decisionRecord, payments, publish, T0, WINDOW_MS } from "./support/fixtures.ts";

const TOKEN = "console-token-4711";
let bus: Bus;
let store: StateStore;
let guarded: RunningConsole;
let readOnly: RunningConsole;
let control: Awaited<ReturnType<typeof readControl>>;

before(async () => {
  bus = createMemoryBus();
  store = createMemoryStore();
  guarded = await startConsole(bus, store, { MESHLOOP_CONSOLE_TOKEN_FILE: tokenFile(TOKEN), MESHLOOP_SERVICE_INSTANCE_ID: "console-a" });
  readOnly = await startConsole(bus, store, { MESHLOOP_SERVICE_INSTANCE_ID: "console-b" });
  control = await readControl(bus, "test-control-reader");
});
after(async () => {
  await control?.consumer.stop();
  await guarded?.runtime.stop();
  await readOnly?.runtime.stop();
  await bus?.close();
  await store?.close();
});

async function state(c: RunningConsole): Promise<ConsoleSnapshot> {
  const response = await fetch(`${c.url}/api/state`);
  assert.equal(response.status, 200);
  return (await response.json()) as ConsoleSnapshot;
}

async function post(c: RunningConsole, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${c.url}/api/control`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test("a decision, its actuation and an aggregate read from the bus show in GET /api/state", async () => {
  const step = decision({ generation: 2, reason: "The pin of v1 at 100% took effect; v2's canary starts at 20%.", weights: { v1: 80, v2: 20 } });
  await publish(bus, topics.decisions, [decisionRecord(step)]);
  await publish(bus, topics.actuations, [actuationRecord(actuation(step))]);
  const window = aggregate({ service: "payments", windowStartMs: T0, versions: { v1: { requests: 400, errors: 4, latencyMs: 12 }, v2: { requests: 100, errors: 20, latencies: [...new Array<number>(98).fill(30), 900, 900] } }, inbound: [["checkout", 500, 24]], outbound: [["ledger", 480, 0]] });
  await publish(bus, topics.aggregates, [aggregateRecord(window)]);

  let snapshot: ConsoleSnapshot | undefined;
  await eventually(async () => {
    snapshot = await state(guarded);
    return snapshot.decisions.length === 1 && snapshot.decisions[0]!.actuations.length === 1 && snapshot.series.length === 2;
  }, "the decision, its result and both versions' signals in /api/state");
  const s = snapshot!;
  assert.equal(s.decisions[0]!.decision.decisionId, step.decisionId);
  assert.equal(s.decisions[0]!.actuations[0]!.status, "applied");
  assert.deepEqual(s.canaries.map((c) => [c.targetKey, c.inProgress]), [[targetKey(payments), true]]);
  const v2 = s.series.find((x) => x.version === "v2")!;
  assert.equal(v2.targetKey, "lab/lab/payments");
  assert.equal(v2.points.length, 1);
  assert.equal(v2.points[0]!.rate, 100 / (WINDOW_MS / 1000));
  assert.equal(v2.points[0]!.errorPct, 20);
  assert.ok(Math.abs(v2.points[0]!.p50! - 30) <= 30 * 0.02, `p50 ${v2.points[0]!.p50} is about 30 ms`);
  assert.ok(Math.abs(v2.points[0]!.p99! - 900) <= 900 * 0.02, `p99 ${v2.points[0]!.p99} is about 900 ms`);
  assert.deepEqual(s.graph.nodes.map((n) => n.service).sort(), ["checkout", "ledger", "payments"]);
  assert.equal(s.graph.source, "aggregates");
  assert.deepEqual(s.control, { enabled: true, auth: ["token"] });
  assert.equal(s.freeze.frozen, false, "the store holds no freeze");
});

test("the event stream starts with a snapshot and delivers a decision published afterwards", async () => {
  const abort = new AbortController();
  try {
    const stream = await openEvents(guarded.url, abort.signal);
    assert.equal(stream.status, 200);
    await eventually(() => stream.events.length > 0, "the first event");
    assert.equal(stream.events[0]!.event, "snapshot");
    const rollback = decision({ generation: 3, reason: "v2's error rate 20% is above the baseline's 1%; rolling back to v1.", weights: { v1: 100, v2: 0 } });
    await publish(bus, topics.decisions, [decisionRecord(rollback)]);
    await eventually(() => stream.events.some((e) => e.event === "decision"), "the decision event");
    const event = stream.events.find((e) => e.event === "decision")!.data as { decision: { decisionId: string; reason: string } };
    assert.equal(event.decision.decisionId, rollback.decisionId);
    assert.match(event.decision.reason, /rolling back to v1/);
    await eventually(() => stream.events.some((e) => e.event === "derived"), "the derived state after the decision");
    const derived = stream.events.find((e) => e.event === "derived")!.data as ConsoleSnapshot;
    assert.equal(derived.canaries[0]!.inProgress, false, "the rollback ended the split");
  } finally {
    abort.abort();
  }
});

test("POST /api/control without a valid token is refused: 401 with a token file, 403 on a read-only console", async () => {
  const body = { command: "freeze", reason: "incident 42" };
  const missing = await post(guarded, body);
  assert.equal(missing.status, 401);
  assert.match(String(missing.body.error), /bearer token/);
  const wrong = await post(guarded, body, { authorization: "Bearer not-the-token" });
  assert.equal(wrong.status, 401);
  const refused = await post(readOnly, body, { authorization: `Bearer ${TOKEN}` });
  assert.equal(refused.status, 403);
  assert.match(String(refused.body.error), /no token configured/);
  const crossSite = await post(guarded, body, { authorization: `Bearer ${TOKEN}`, origin: "https://evil.example" });
  assert.equal(crossSite.status, 403, "a foreign page's request is refused even with the token");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(control.commands, [], "nothing was published");
});

test("POST /api/control with the token publishes the control command the CLI would", async () => {
  const proposal = decision({ generation: 4, controllers: ["security"], reason: "Caller lab/crawler is new and fails auth; proposing to deny it (awaiting approval) for 10m.", weights: { v1: 100, v2: 0 }, requiresApproval: true });
  await publish(bus, topics.decisions, [decisionRecord(proposal)]);
  await eventually(async () => (await state(guarded)).pending.some((p) => p.decisionId === proposal.decisionId), "the pending proposal");

  const approved = await post(guarded, { command: "approve", decisionId: proposal.decisionId, reason: "looks right" }, { authorization: `Bearer ${TOKEN}` });
  assert.equal(approved.status, 202, JSON.stringify(approved.body));
  assert.equal(approved.body.operator, "console");
  await eventually(() => control.commands.length === 1, "the approve on the control topic");
  const command = control.commands[0]!;
  assert.equal(command.command, "approve");
  assert.equal(command.decisionId, proposal.decisionId);
  assert.deepEqual(command.target, payments);
  assert.equal(command.operator, "console");
  assert.equal(command.reason, "looks right");
  assert.equal(command.commandId, approved.body.commandId);
  assert.ok(Math.abs(Date.parse(command.issuedAt) - Date.now()) < 60_000);
  assert.equal(control.sources[0], "/meshloop/console");
  const after = await state(guarded);
  assert.equal(after.pending[0]!.answer?.operator, "console", "the proposal shows the approve sent");

  const frozen = await post(guarded, { command: "freeze", reason: "incident 42" }, { authorization: `bearer ${TOKEN}` });
  assert.equal(frozen.status, 202);
  await eventually(() => control.commands.length === 2, "the freeze on the control topic");
  assert.equal(control.commands[1]!.command, "freeze");
  assert.equal(control.commands[1]!.target, undefined, "a freeze without a target is global");
  assert.equal(control.commands[1]!.decisionId, undefined);
});

test("POST /api/control with an invalid body answers 400 with a one-line error and publishes nothing", async () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const before = control.commands.length;
  const cases: Array<[unknown, RegExp]> = [
    [{ command: "explode" }, /command must be one of approve, reject, freeze, unfreeze/],
    [{ command: "approve" }, /approve needs a decisionId/],
    [{ command: "reject", decisionId: "not-a-decision" }, /is not a decision id/],
    [{ command: "approve", decisionId: "lab/lab/payments@4", target: "lab/lab/ledger" }, /is not the target of/],
    [{ command: "freeze", target: "nomesh/x/y" }, /mesh "nomesh"/],
    [{ command: "freeze", extra: 1 }, /unknown field extra/],
    ["{not json", /must be a JSON object/],
  ];
  for (const [body, expected] of cases) {
    const answer = await post(guarded, body, auth);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.match(String(answer.body.error), expected);
    assert.doesNotMatch(String(answer.body.error), /\n/);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(control.commands.length, before);
});

test("the freeze shown follows the decision service's shared state in the store", async () => {
  await store.set(GLOBAL_STATE_KEY, JSON.stringify({ frozen: { by: "alice", reason: "incident 42" } }));
  await eventually(async () => (await state(guarded)).freeze.frozen === true, "the freeze read from the store", 15_000);
  const f = (await state(guarded)).freeze;
  assert.equal(f.by, "alice");
  assert.equal(f.source, "store");
});
