import { z } from "zod";
import { desiredStateSchema } from "./desired-state.ts";
import { sameTarget, targetRefSchema } from "./target.ts";

/**
 * A decision: the full desired state of one target (never a delta) with why it was chosen. `generation` increases
 * strictly per target, so an actuator can drop anything not newer than what it applied last, whatever the order.
 */
export const CONTROLLERS = [
  "canary",
  "ejection",
  "retries",
  "routing",
  "scaling",
  "failover",
  "backpressure",
  "security",
  "operator",
  "guardrail",
] as const;
export const controllerSchema = z.enum(CONTROLLERS);
export type Controller = z.infer<typeof controllerSchema>;

/** One fact behind a decision: a metric value, what it was compared with, over which event-time window. */
export const evidenceSchema = z.object({
  metric: z.string().min(1),
  value: z.number(),
  threshold: z.number().optional(),
  /** `value <comparison> threshold` is what held. */
  comparison: z.enum(["<", "<=", ">", ">=", "==", "!="]).optional(),
  window: z.object({ startMs: z.int().min(0), endMs: z.int().min(0) }),
  /** How the value was obtained, e.g. `p99`, `error-ratio`, `mann-whitney-u`. */
  statistic: z.string().min(1).optional(),
  pValue: z.number().min(0).max(1).optional(),
  note: z.string().optional(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const decisionSchema = z
  .object({
    decisionId: z.string().min(1),
    target: targetRefSchema,
    generation: z.int().positive(),
    desiredState: desiredStateSchema,
    /** The controllers whose proposals this decision carries; several when their changes were merged. */
    controllers: z.array(controllerSchema).min(1),
    /** One human-readable sentence. */
    reason: z.string().min(1).max(1000),
    evidence: z.array(evidenceSchema),
    requiresApproval: z.boolean(),
    approvedBy: z.string().min(1).optional(),
    /** Computed and published, never applied: for trying a policy against live traffic. */
    dryRun: z.boolean(),
    /** The event time (end of the aggregate window) that produced it; wall-clock time is `createdAt`. */
    windowEndMs: z.int().min(0),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .refine((d) => sameTarget(d.target, d.desiredState.target), {
    error: "desiredState.target must be the decision's target",
    path: ["desiredState", "target"],
  });
export type Decision = z.output<typeof decisionSchema>;
