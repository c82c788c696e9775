import { z } from "zod";
import { targetRefSchema } from "./target.ts";
import { issue } from "./validation.ts";

/**
 * Operators' commands to the decision engine, and the pause notices it publishes when a freeze takes or ends.
 * `release` hands a target back to the mesh: the next decision carries an empty desired state and meshloop stops
 * managing it. Commands without a target (freeze, unfreeze) apply to all targets.
 */
export const CONTROL_COMMANDS = [
  "approve",
  "reject",
  "freeze",
  "release",
  "unfreeze",
  "canary-start",
  "canary-abort",
] as const;
export const controlCommandNameSchema = z.enum(CONTROL_COMMANDS);
export type ControlCommandName = z.infer<typeof controlCommandNameSchema>;

const NEEDS_DECISION: readonly ControlCommandName[] = ["approve", "reject"];
const NEEDS_TARGET: readonly ControlCommandName[] = ["release", "canary-start", "canary-abort"];

export const controlCommandSchema = z
  .object({
    commandId: z.string().min(1),
    command: controlCommandNameSchema,
    target: targetRefSchema.optional(),
    /** The decision an approve or reject is about. */
    decisionId: z.string().min(1).optional(),
    /** canary-start: the version to canary; absent = the newest version the telemetry shows. */
    version: z.string().min(1).optional(),
    operator: z.string().min(1),
    reason: z.string().optional(),
    issuedAt: z.iso.datetime({ offset: true }),
  })
  .superRefine((c, ctx) => {
    if (NEEDS_DECISION.includes(c.command) && c.decisionId === undefined) {
      issue(ctx, `${c.command} needs a decisionId`, ["decisionId"]);
    }
    if (NEEDS_TARGET.includes(c.command) && c.target === undefined) {
      issue(ctx, `${c.command} needs a target`, ["target"]);
    }
    if (c.version !== undefined && c.command !== "canary-start") {
      issue(ctx, `version is only for canary-start, not ${c.command}`, ["version"]);
    }
  });
export type ControlCommand = z.output<typeof controlCommandSchema>;

/** A target (or, without one, the whole loop) was paused or resumed: by an operator's freeze or by a guardrail. */
export const pauseNoticeSchema = z.object({
  pauseId: z.string().min(1),
  target: targetRefSchema.optional(),
  paused: z.boolean(),
  by: z.enum(["operator", "guardrail"]),
  /** The control command that caused it, when an operator did. */
  commandId: z.string().min(1).optional(),
  reason: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
});
export type PauseNotice = z.output<typeof pauseNoticeSchema>;
