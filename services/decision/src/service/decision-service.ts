import type { ConsumedBatch, ConsumedRecord, Consumer, Producer } from "@meshloop/bus";
import { openConnections } from "@meshloop/connections";
import type { Bus } from "@meshloop/bus";
import { decodeEnvelope, fromCloudEventMessage, targetKey } from "@meshloop/contracts";
import type { TargetRef, WindowAggregate } from "@meshloop/contracts";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import { applyControl } from "../control.ts";
import { evaluateTarget, recordActuation } from "../evaluate.ts";
import { selectPolicy } from "../policy/select.ts";
import type { GlobalState } from "../target-state.ts";
import type { DecisionConfig } from "./config.ts";
import { DeadTimeMeter } from "./dead-time.ts";
import { decisionMetrics } from "./decision-metrics.ts";
import { PolicySource } from "./policy-source.ts";
import { SilentTargets } from "./silent-targets.ts";
import { TargetStates } from "./target-states.ts";
import type { OutboxMessage } from "./target-states.ts";
import { noticeMessage, TargetWriter } from "./target-writer.ts";

/** Targets of one batch evaluated at the same time. */
const TARGET_CONCURRENCY = 32;

export interface DecisionService extends Service {
  readonly policies: PolicySource;
  readonly deadTime: DeadTimeMeter;
}

/**
 * The decision service: aggregates in (one consumer group, partitioned by target, so a target has one writer at a
 * time), actuation results and operators' commands in, decisions and pause notices out. All judgement is in the pure
 * core (evaluate.ts, control.ts); this file reads, stores and publishes.
 */
export function createDecisionService(
  context: ServiceContext<DecisionConfig>,
  shared?: { bus?: Bus; store?: StateStore },
): DecisionService {
  const { config, logger, metrics } = context;
  const connections = openConnections({ service: "decision", config, logger: logger.child({ component: "bus" }), ...(shared === undefined ? {} : { shared }) });
  const { topics } = connections;
  const m = decisionMetrics(metrics);
  const states = new TargetStates(connections.store);
  const deadTime = new DeadTimeMeter(config.MESHLOOP_DECISION_PROPAGATION_DELAY);
  const policies = new PolicySource({
    files: config.MESHLOOP_DECISION_POLICY_FILES ?? [],
    reloadIntervalMs: config.MESHLOOP_DECISION_POLICY_RELOAD_INTERVAL,
    logger: logger.child({ component: "policies" }),
    onLoad: (outcome) => m.policyLoads.inc({ result: outcome.ok ? "loaded" : "refused" }),
  });
  let producer: Producer | null = null;
  const publish = async (messages: readonly OutboxMessage[]): Promise<void> => {
    await producer!.send(topics.decisions, messages.map((message) => ({ key: message.key, value: Buffer.from(message.value), headers: message.headers })));
    for (const message of messages) {
      const type = message.headers["ce_type"] === "dev.meshloop.decision.v1" ? "decision" : "pause";
      m.published.inc({ type });
      if (type === "decision") deadTime.decisionPublished(message.headers["ce_id"]!, Date.now());
    }
  };
  const writer = new TargetWriter(states, publish, () => m.conflicts.inc());
  const silent = new SilentTargets();
  // Action budget of this instance across its targets; the freeze is shared through the store.
  let global: GlobalState = states.initialGlobal();
  const prefix = config.MESHLOOP_TOPIC_PREFIX ? `${config.MESHLOOP_TOPIC_PREFIX}.` : "";
  const groups = { aggregates: `${prefix}meshloop-decision`, actuations: `${prefix}meshloop-decision-actuations`, control: `${prefix}meshloop-decision-control` };

  const discard = (record: ConsumedRecord, error: unknown): void => {
    m.discarded.inc({ topic: record.topic });
    logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset, err: error }, "input record skipped");
  };

  async function onAggregates(batch: ConsumedBatch): Promise<void> {
    const arrivedAt = Date.now();
    const byTarget = new Map<string, { target: TargetRef; windows: WindowAggregate[]; delay: number }>();
    for (const record of batch.records) {
      let aggregate: WindowAggregate;
      try {
        aggregate = decodeEnvelope(record.value ?? "", "meshloop.aggregate").data;
      } catch (error) {
        discard(record, error);
        continue;
      }
      m.aggregates.inc();
      const delay = deadTime.aggregateArrived(aggregate.windowStartMs + aggregate.windowMs, aggregate.windowMs, arrivedAt);
      const whole = await states.collectPart(aggregate);
      if (whole === null) continue;
      const key = targetKey(aggregate.target);
      const entry = byTarget.get(key) ?? { target: aggregate.target, windows: [], delay: 0 };
      entry.windows.push(...whole);
      entry.delay = Math.max(entry.delay, delay);
      byTarget.set(key, entry);
    }
    if (byTarget.size === 0) return;
    const deadTimeMs = deadTime.deadTimeMs();
    m.deadTime.set(deadTimeMs / 1000);
    for (const [key, { target, windows }] of byTarget) for (const w of windows) silent.seen(key, target, w.windowStartMs + w.windowMs, w.windowMs);
    // Targets are independent: their reads and writes overlap, a batch's latency is not the sum of its targets'.
    await forEachConcurrently([...byTarget.values()], TARGET_CONCURRENCY, ({ target, windows, delay }) => evaluate(target, windows, delay, deadTimeMs, arrivedAt));
    // Targets that went silent while others go on: evaluated at the watermark, so their timeouts fire.
    const due = silent.due().filter((t) => !byTarget.has(targetKey(t)));
    m.ticks.inc(due.length);
    await forEachConcurrently(due, TARGET_CONCURRENCY, (target) => evaluate(target, [], 0, deadTimeMs, arrivedAt, silent.watermarkMs));
  }

  async function evaluate(target: TargetRef, windows: WindowAggregate[], delay: number, deadTimeMs: number, arrivedAt: number, tickAtMs?: number): Promise<void> {
    const policy = selectPolicy(policies.policies, target);
    if (policy === null) {
      if (tickAtMs === undefined) m.unmanaged.inc();
      return;
    }
    const maxDelay = config.MESHLOOP_DECISION_MAX_INPUT_DELAY;
    const untrustedReason = delay > maxDelay ? `aggregates arrive ${Math.round(delay / 1000)} s after their window, over the bound of ${maxDelay / 1000} s` : null;
    const result = await writer.update(target, (state, frozen) => {
      // The freeze as read with this target; the rest of `global` is this instance's, updated synchronously below.
      if (global.frozen !== frozen) global = { ...global, frozen };
      const evaluation = evaluateTarget(state, windows, policy, global, {
        deadTimeMs,
        globalMaxActionsPerMinute: config.MESHLOOP_DECISION_GLOBAL_MAX_ACTIONS_PER_MINUTE,
        propagationDelayMs: config.MESHLOOP_DECISION_PROPAGATION_DELAY,
        untrustedReason,
        ...(tickAtMs === undefined ? {} : { now: tickAtMs }),
      });
      if (evaluation.replay) return null;
      // A tick that changes nothing is not written.
      if (tickAtMs !== undefined && evaluation.decision === null && evaluation.notices.length === 0) return null;
      // Taken at once (this runs synchronously), so the next target's evaluation sees this one's action in the
      // budget. A redone evaluation counts its action again: the budget errs on the side of holding back.
      global = evaluation.global;
      return evaluation;
    });
    if (result === null) {
      if (tickAtMs === undefined) m.replays.inc();
      return;
    }
    m.evaluations.inc();
    if (result.decision !== null) {
      m.decisions.inc({ controller: result.decision.controllers.join("+") });
      m.latency.observe((Date.now() - arrivedAt) / 1000);
      logger.info({ target: targetKey(target), generation: result.decision.generation, controllers: result.decision.controllers, tick: tickAtMs !== undefined }, result.decision.reason);
    }
  }

  async function onActuations(batch: ConsumedBatch): Promise<void> {
    for (const record of batch.records) {
      let result;
      try {
        result = fromCloudEventMessage(record, "dev.meshloop.actuation.v1").data;
      } catch (error) {
        discard(record, error);
        continue;
      }
      m.actuations.inc({ status: result.status });
      const delay = deadTime.actuationObserved(result.decisionId, Date.now());
      if (delay !== null) m.actuationDelay.observe(delay / 1000);
      await writer.update(result.target, (state) => {
        const next = recordActuation(state, result, config.MESHLOOP_DECISION_PROPAGATION_DELAY);
        return next === state ? null : { state: next, decision: null, notices: [] };
      });
    }
  }

  async function onControl(batch: ConsumedBatch): Promise<void> {
    for (const record of batch.records) {
      let command;
      try {
        command = fromCloudEventMessage(record, "dev.meshloop.control.v1").data;
      } catch (error) {
        discard(record, error);
        continue;
      }
      // Redelivered commands (at-least-once) are carried out once.
      if (!(await states.firstSight(command.commandId))) continue;
      m.commands.inc({ command: command.command });
      if (command.target === undefined) {
        const frozen = await states.loadFrozen();
        // Applied to `global` as it is now (batches of other partitions change its budget meanwhile), not to a
        // copy taken before the read.
        const outcome = applyControl(null, { ...global, frozen }, command);
        global = outcome.global;
        await states.saveGlobal(global);
        if (outcome.notices.length > 0) await publish(outcome.notices.map(noticeMessage));
        logger.info({ command: command.command, operator: command.operator }, outcome.reason);
        continue;
      }
      let reason = "";
      await writer.update(command.target, (state) => {
        const outcome = applyControl(state, global, command);
        reason = outcome.reason;
        return outcome.state === null ? null : { state: outcome.state, decision: outcome.decision, notices: outcome.notices };
      });
      logger.info({ command: command.command, operator: command.operator, target: targetKey(command.target) }, reason);
    }
  }

  const consumers: Consumer[] = [
    // Aggregates of different partitions are different targets; what they share (the action budget, the silent
    // targets, the dead-time meter) is changed synchronously, so their batches can overlap.
    consumer(groups.aggregates, topics.aggregates, onAggregates, config.MESHLOOP_DECISION_CONCURRENT_PARTITIONS),
    consumer(groups.actuations, topics.actuations, onActuations),
    consumer(groups.control, topics.control, onControl),
  ];
  function consumer(groupId: string, topic: string, handler: (batch: ConsumedBatch) => Promise<void>, concurrency = 1): Consumer {
    return connections.bus.consumer({
      groupId,
      topics: [topic],
      concurrency,
      commitIntervalMs: config.MESHLOOP_DECISION_COMMIT_INTERVAL,
      fromBeginning: config.MESHLOOP_DECISION_FROM_BEGINNING,
      sessionTimeoutMs: config.MESHLOOP_DECISION_SESSION_TIMEOUT,
      handler,
      onError: (error) => logger.warn({ err: error, topic }, "consumer error; resuming from the last committed offset"),
    });
  }

  context.ops.addReadinessCheck("decision", () => connections.check());
  context.ops.route("GET", "/policies", () => ({ body: { policies: policies.policies } }));
  context.ops.route("GET", "/dead-time", () => ({ body: { deadTimeMs: deadTime.deadTimeMs() } }));
  return {
    name: "decision",
    policies,
    deadTime,
    async start() {
      await policies.start();
      await connections.ensureTopics();
      const ranBefore = (await connections.bus.committedOffsets(groups.aggregates, topics.aggregates)).some((p) => p.offset >= 0);
      if (!(await states.claimStore(ranBefore))) {
        m.storeWiped.inc();
        logger.warn("the state store lost the decision service's state (wiped or replaced): targets start again from their next windows, with generations from event time");
      }
      producer = connections.bus.producer({ lingerMs: config.MESHLOOP_DECISION_PUBLISH_LINGER });
      await producer.connect();
      for (const c of consumers) await c.start();
      logger.info({ policies: policies.policies.map((p) => p.name) }, "decision service started");
    },
    async stop() {
      policies.stop();
      for (const c of consumers) await c.stop();
      await producer?.close();
      await connections.close();
    },
  };
}

/** Runs `work` on every item, at most `limit` at a time; rejects with the first failure after all have settled. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  const results = await Promise.allSettled(lanes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}
