import type { Metrics } from "@meshloop/runtime";

/** The decision service's metrics, by name in one place (docs/decision.md lists them). */
export function decisionMetrics(metrics: Metrics) {
  return {
    aggregates: metrics.counter({ name: "meshloop_decision_aggregates_total", help: "Aggregates read." }),
    evaluations: metrics.counter({ name: "meshloop_decision_evaluations_total", help: "Target evaluations over new windows." }),
    replays: metrics.counter({ name: "meshloop_decision_replays_total", help: "Batches of a target whose windows were all processed before (redeliveries), ignored." }),
    ticks: metrics.counter({ name: "meshloop_decision_ticks_total", help: "Evaluations of silent targets at the event-time watermark (so their timeouts fire without new windows)." }),
    unmanaged: metrics.counter({ name: "meshloop_decision_unmanaged_total", help: "Aggregates of targets no policy selects, not evaluated." }),
    decisions: metrics.counter({ name: "meshloop_decision_decisions_total", help: "Decisions made, by the controllers they carry.", labelNames: ["controller"] as const }),
    published: metrics.counter({ name: "meshloop_decision_published_total", help: "Messages published to the decisions topic (republished outboxes included).", labelNames: ["type"] as const }),
    actuations: metrics.counter({ name: "meshloop_decision_actuations_total", help: "Actuation results read, by status.", labelNames: ["status"] as const }),
    commands: metrics.counter({ name: "meshloop_decision_commands_total", help: "Operator commands carried out.", labelNames: ["command"] as const }),
    discarded: metrics.counter({ name: "meshloop_decision_discarded_records_total", help: "Input records that could never be processed (malformed), skipped and counted.", labelNames: ["topic"] as const }),
    conflicts: metrics.counter({ name: "meshloop_decision_state_conflicts_total", help: "State writes lost to another writer and redone." }),
    storeWiped: metrics.counter({ name: "meshloop_decision_store_wiped_total", help: "Starts that found the state store emptied (wiped or replaced)." }),
    policyLoads: metrics.counter({ name: "meshloop_decision_policy_loads_total", help: "Policy (re)loads, by result.", labelNames: ["result"] as const }),
    deadTime: metrics.gauge({ name: "meshloop_decision_dead_time_seconds", help: "The loop's measured dead time (window, input delay p90, actuation delay p90, propagation); cooldowns are never shorter." }),
    latency: metrics.histogram({ name: "meshloop_decision_latency_seconds", help: "From an aggregate batch's arrival to its decision's publication.", buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] }),
    actuationDelay: metrics.histogram({ name: "meshloop_decision_actuation_delay_seconds", help: "From a decision's publication to its actuation result.", buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] }),
  };
}
