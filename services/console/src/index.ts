export { createConsoleService, GLOBAL_STATE_KEY } from "./console-service.ts";
export type { ConsoleService, ConsoleSnapshot } from "./console-service.ts";
export { createConsoleServer } from "./http/console-server.ts";
export type { ConsoleAddress, ConsoleApi, ConsoleServer, ConsoleServerOptions, ControlAnswer } from "./http/console-server.ts";
export {
  authorize,
  CONSOLE_COMMANDS,
  CONTROL_SOURCE,
  controlCommand,
  controlMessage,
  parseControlRequest,
  targetOfDecision,
  TOKEN_OPERATOR,
} from "./http/control-request.ts";
export type { AuthOutcome, ConsoleCommand, ControlAuth, ControlRequest } from "./http/control-request.ts";
export { EventStream, frame } from "./http/event-stream.ts";
export type { EventStreamOptions, StreamEvent } from "./http/event-stream.ts";
export { GraphSource } from "./http/graph-source.ts";
export type { GraphSourceOptions } from "./http/graph-source.ts";
export { consolePage } from "./page/console-page.ts";
export { DECISION_HISTORY, DecisionLog } from "./state/decision-log.ts";
export type {
  ActuationView,
  CanaryPoint,
  CanaryView,
  DecisionEntry,
  FreezeView,
  PendingProposal,
  ProposalAnswer,
} from "./state/decision-log.ts";
export { GRAPH_RATE_WINDOW_MS, SIGNAL_RETENTION_MS, SignalBook } from "./state/signals.ts";
export type {
  GraphEdgeView,
  GraphNodeView,
  GraphView,
  SignalPoint,
  SignalSeries,
  SignalUpdate,
} from "./state/signals.ts";
