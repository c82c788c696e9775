import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Bus, ConsumedBatch, ConsumedRecord, Producer } from "@meshloop/bus";
import { openConnections } from "@meshloop/connections";
import { decodeEnvelope, fromCloudEventMessage, targetKey } from "@meshloop/contracts";
import type { ControlCommand, PauseNotice } from "@meshloop/contracts";
import { MeshloopError, ValidationError } from "@meshloop/errors";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import { authorize, controlCommand, controlMessage, parseControlRequest } from "./http/control-request.ts";
import type { ControlAnswer, ConsoleAddress } from "./http/console-server.ts";
import { createConsoleServer } from "./http/console-server.ts";
import { EventStream } from "./http/event-stream.ts";
import type { StreamEvent } from "./http/event-stream.ts";
import { GraphSource } from "./http/graph-source.ts";
import { consolePage } from "./page/console-page.ts";
import type { ConsoleConfig } from "./service/config.ts";
import { DECISION_HISTORY, DecisionLog } from "./state/decision-log.ts";
import type { CanaryView, DecisionEntry, FreezeView, PendingProposal } from "./state/decision-log.ts";
import { SIGNAL_RETENTION_MS, SignalBook } from "./state/signals.ts";
import type { GraphView, SignalSeries, SignalUpdate } from "./state/signals.ts";

/** The decision service's shared freeze in the store (services/decision/src/service/target-states.ts), read only. */
export const GLOBAL_STATE_KEY = "decision:global";
const FREEZE_POLL_MS = 5_000;
/** Aggregate updates are sent to the pages at most this often, coalesced: a busy mesh makes many per second. */
const AGGREGATE_FLUSH_MS = 1_000;

export interface ConsoleSnapshot {
  readonly generatedAt: string;
  /** The end of the newest aggregate window read (event time). */
  readonly horizonMs: number | null;
  readonly retentionMs: number;
  readonly decisionHistory: number;
  readonly control: { readonly enabled: boolean; readonly auth: readonly ("token" | "forwarded-user")[] };
  readonly freeze: FreezeView;
  readonly decisions: readonly DecisionEntry[];
  readonly pauses: readonly PauseNotice[];
  readonly controls: readonly ControlCommand[];
  readonly pending: readonly PendingProposal[];
  readonly canaries: readonly CanaryView[];
  readonly series: readonly SignalSeries[];
  readonly graph: GraphView;
}

export interface ConsoleService extends Service {
  readonly log: DecisionLog;
  readonly signals: SignalBook;
  snapshot(): Promise<ConsoleSnapshot>;
  /** Where the console's web server listens; throws before start(). */
  address(): ConsoleAddress;
}

/**
 * The live console: reads decisions (and pause notices), actuation results, aggregates and operators' commands with
 * a consumer group of its own per instance, from the newest offsets on, keeps a bounded history in memory, serves the
 * page, the JSON state and an event stream, and publishes operators' commands to the control topic.
 */
export function createConsoleService(context: ServiceContext<ConsoleConfig>, shared?: { bus?: Bus; store?: StateStore }): ConsoleService {
  const { config, logger, metrics } = context;
  const connections = openConnections({ service: "console", config, logger: logger.child({ component: "bus" }), ...(shared === undefined ? {} : { shared }) });
  const { topics } = connections;
  const log = new DecisionLog();
  const signals = new SignalBook();
  const events = new EventStream();
  const graphs = new GraphSource({ aggregatorUrl: config.MESHLOOP_CONSOLE_GRAPH_URL, local: () => signals.graph() });
  const auth = { tokenFile: config.MESHLOOP_CONSOLE_TOKEN_FILE, trustForwardedUser: config.MESHLOOP_CONSOLE_TRUST_FORWARDED_USER };
  const authModes = [...(auth.tokenFile === undefined ? [] : ["token" as const]), ...(auth.trustForwardedUser ? ["forwarded-user" as const] : [])];
  const m = {
    records: metrics.counter({ name: "meshloop_console_records_total", help: "Records read, by topic.", labelNames: ["topic"] as const }),
    discarded: metrics.counter({ name: "meshloop_console_discarded_records_total", help: "Records that could not be read (malformed), skipped.", labelNames: ["topic"] as const }),
    commands: metrics.counter({ name: "meshloop_console_commands_total", help: "Control requests, by command and result.", labelNames: ["command", "result"] as const }),
  };
  metrics.gauge({ name: "meshloop_console_event_clients", help: "Open event streams (pages).", collect() { this.set(events.clients); } });
  // Its own group per instance: every console replica must see every partition, not share them.
  const prefix = config.MESHLOOP_TOPIC_PREFIX ? `${config.MESHLOOP_TOPIC_PREFIX}.` : "";
  const groupId = `${prefix}meshloop-console-${config.MESHLOOP_SERVICE_INSTANCE_ID}`;
  let producer: Producer | null = null;
  let pendingUpdates = new Map<string, SignalUpdate>();
  let globalNotices = 0;
  const timers: NodeJS.Timeout[] = [];

  const derived = () => ({ pending: log.pending(), canaries: log.canaries(), freeze: log.freeze });

  const discard = (record: ConsumedRecord, error: unknown): void => {
    m.discarded.inc({ topic: record.topic });
    logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset, err: error }, "record skipped");
  };

  async function onBatch(batch: ConsumedBatch): Promise<void> {
    let changed = false;
    for (const record of batch.records) {
      m.records.inc({ topic: record.topic });
      try {
        if (record.topic === topics.aggregates) {
          const aggregate = decodeEnvelope(record.value ?? "", "meshloop.aggregate").data;
          for (const update of signals.observe(aggregate)) pendingUpdates.set(`${update.key}@${update.point.windowStartMs}`, update);
        } else if (record.topic === topics.decisions) {
          const event = fromCloudEventMessage(record, ["dev.meshloop.decision.v1", "dev.meshloop.pause.v1"]);
          if (event.type === "dev.meshloop.decision.v1") {
            const entry = log.addDecision(event.data);
            if (entry !== null) events.send("decision", entry);
          } else {
            log.addPause(event.data);
            if (event.data.target === undefined) globalNotices++;
            events.send("pause", event.data);
          }
          changed = true;
        } else if (record.topic === topics.actuations) {
          const result = fromCloudEventMessage(record, "dev.meshloop.actuation.v1").data;
          const actuation = log.addActuation(result);
          events.send("actuation", { decisionId: result.decisionId, targetKey: targetKey(result.target), actuation });
        } else if (record.topic === topics.control) {
          const command = fromCloudEventMessage(record, "dev.meshloop.control.v1").data;
          if (log.addControl(command)) {
            events.send("control", command);
            changed = true;
          }
        }
      } catch (error) {
        discard(record, error);
      }
    }
    if (changed) events.send("derived", derived());
  }

  const consumer = connections.bus.consumer({
    groupId,
    topics: [topics.decisions, topics.actuations, topics.aggregates, topics.control],
    fromBeginning: false,
    handler: onBatch,
    onError: (error) => logger.warn({ err: error }, "consumer error; resuming from the last committed offset"),
  });

  function flushAggregates(): void {
    if (pendingUpdates.size === 0) return;
    const updates = [...pendingUpdates.values()];
    pendingUpdates = new Map();
    events.send("aggregate", { horizonMs: signals.horizonMs, updates });
  }

  /** The store holds the freeze as of before any notice about it, so it settles what a notice missed. */
  async function pollFreeze(): Promise<void> {
    const before = globalNotices;
    const raw = await connections.store.get(GLOBAL_STATE_KEY);
    if (globalNotices !== before) return; // a notice came meanwhile: it is newer than what was read
    const frozen = raw === null ? null : ((JSON.parse(raw) as { frozen?: { by: string; reason: string } | null }).frozen ?? null);
    const was = log.freeze;
    log.freezeFromStore(frozen);
    if (was.frozen !== log.freeze.frozen) events.send("derived", derived());
  }

  async function snapshot(): Promise<ConsoleSnapshot> {
    return {
      generatedAt: new Date().toISOString(),
      horizonMs: signals.horizonMs,
      retentionMs: SIGNAL_RETENTION_MS,
      decisionHistory: DECISION_HISTORY,
      control: { enabled: authModes.length > 0, auth: authModes },
      freeze: log.freeze,
      decisions: log.decisions(),
      pauses: log.pauses(),
      controls: log.controls(),
      pending: log.pending(),
      canaries: log.canaries(),
      series: signals.series(),
      graph: await graphs.graph(),
    };
  }

  async function control(headers: IncomingHttpHeaders, body: unknown): Promise<ControlAnswer> {
    const command = typeof body === "object" && body !== null && "command" in body ? String(body.command) : "unknown";
    const answer = await controlAnswer(headers, body);
    m.commands.inc({ command: ["approve", "reject", "freeze", "unfreeze"].includes(command) ? command : "unknown", result: answer.status === 202 ? "published" : answer.status === 400 ? "invalid" : answer.status < 500 ? "refused" : "failed" });
    return answer;
  }

  async function controlAnswer(headers: IncomingHttpHeaders, body: unknown): Promise<ControlAnswer> {
    let operator: string;
    try {
      const outcome = authorize(headers, auth);
      if (!outcome.ok) return { status: outcome.status, body: { error: outcome.error } };
      operator = outcome.operator;
    } catch (error) {
      logger.error({ err: error }, "control refused: the token cannot be checked");
      return { status: 503, body: { error: (error as Error).message } };
    }
    if (body === undefined) return { status: 400, body: { error: "the body must be a JSON object (content-type: application/json)" } };
    let command: ControlCommand;
    try {
      command = controlCommand(parseControlRequest(body), operator, randomUUID());
    } catch (error) {
      if (error instanceof ValidationError) return { status: 400, body: { error: error.message } };
      throw error;
    }
    if (producer === null) return { status: 503, body: { error: "the console is not started" } };
    try {
      await producer.send(topics.control, [controlMessage(command)]);
    } catch (error) {
      logger.error({ err: error, command: command.command }, "publishing a control command failed");
      const retriable = error instanceof MeshloopError ? error.retriable : true;
      return { status: 503, body: { error: `the command was not published: ${(error as Error).message}`.split("\n")[0], retriable } };
    }
    logger.info({ command: command.command, operator, commandId: command.commandId, target: command.target === undefined ? "*" : targetKey(command.target), decisionId: command.decisionId }, "control command published");
    // Shown at once; the control topic brings it back and it is not added twice.
    if (log.addControl(command)) {
      events.send("control", command);
      events.send("derived", derived());
    }
    return { status: 202, body: { commandId: command.commandId, command: command.command, operator, target: command.target === undefined ? null : targetKey(command.target), ...(command.decisionId === undefined ? {} : { decisionId: command.decisionId }) } };
  }

  const server = createConsoleServer({
    host: config.MESHLOOP_CONSOLE_HOST,
    port: config.MESHLOOP_CONSOLE_PORT,
    events,
    logger: logger.child({ component: "console-http" }),
    api: {
      page: (nonce) => consolePage(nonce),
      state: snapshot,
      graph: () => graphs.graph(),
      initialEvents: async (): Promise<StreamEvent[]> => [{ event: "snapshot", data: await snapshot() }],
      control,
    },
  });

  context.ops.addReadinessCheck("console", () => connections.check());
  return {
    name: "console",
    log,
    signals,
    snapshot,
    address: () => server.address(),
    async start() {
      await connections.ensureTopics();
      producer = connections.bus.producer();
      await producer.connect();
      await consumer.start();
      await pollFreeze().catch((error: unknown) => logger.warn({ err: error }, "reading the freeze from the store failed"));
      timers.push(setInterval(flushAggregates, AGGREGATE_FLUSH_MS));
      timers.push(setInterval(() => void pollFreeze().catch((error: unknown) => logger.warn({ err: error }, "reading the freeze from the store failed")), FREEZE_POLL_MS));
      await server.start();
      logger.info({ url: server.address().url, groupId, control: authModes.length > 0 ? authModes : "read-only", graph: config.MESHLOOP_CONSOLE_GRAPH_URL ?? "from aggregates" }, "console listening");
    },
    async stop() {
      for (const timer of timers.splice(0)) clearInterval(timer);
      await server.stop();
      await consumer.stop();
      await producer?.close();
      producer = null;
      await connections.close();
    },
  };
}
