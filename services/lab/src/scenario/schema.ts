import { parse } from "yaml";
import { z } from "zod";
import { ValidationError } from "@meshloop/errors";

/**
 * A lab scenario file: the topology changes, the policies, the load and the faults over time, and what must happen,
 * stated in windows of event time so the verdict holds on a slow machine. docs/lab.md documents the format.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** `500ms`, `10s`, `2m`, or whole milliseconds. */
export const duration = z
  .union([z.int().min(0), z.string().regex(DURATION, "must be a duration like 500ms, 10s or 2m")])
  .transform((v) => (typeof v === "number" ? v : Math.round(Number(DURATION.exec(v)![1]) * UNIT[DURATION.exec(v)![2]!]!)));

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be a lowercase name");

const latency = z.strictObject({ medianMs: z.number().min(0), p99Ms: z.number().min(0) });

const effect = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("errors"), rate: z.number().min(0).max(1), status: z.int().min(400).max(599).default(503) }),
  z.strictObject({ kind: z.literal("latency"), medianMs: z.number().min(0), p99Ms: z.number().min(0) }),
  z.strictObject({ kind: z.literal("capacity"), maxConcurrency: z.int().min(1), latencyPerExcessMs: z.number().min(0), errorRatePerExcess: z.number().min(0).max(1), status: z.int().min(400).max(599).default(503) }),
  z.strictObject({ kind: z.literal("crash") }),
  z.strictObject({ kind: z.literal("clock-skew"), offsetMs: z.int() }),
]);

const fault = z.strictObject({
  /** Expectations name faults to measure from their onset. */
  name,
  /** From the scenario's start. */
  at: duration,
  /** Absent: until the end. */
  for: duration.optional(),
  scope: z.strictObject({ service: name, version: z.string().min(1).optional(), instanceId: z.string().min(1).optional(), route: z.string().min(1).optional() }),
  effect,
});

const profile = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("constant"), rps: z.number().min(0) }),
  z.strictObject({ kind: z.literal("ramp"), fromRps: z.number().min(0), toRps: z.number().min(0), over: duration }),
  z.strictObject({ kind: z.literal("spike"), baseRps: z.number().min(0), peakRps: z.number().min(0), at: duration, for: duration }),
]);

const expectation = z.discriminatedUnion("kind", [
  /** A decision for `service` (by `controller`, reason matching `reason`) within `withinWindows` of `after`'s onset. */
  z.strictObject({
    kind: z.literal("decision"),
    service: name,
    controller: z.string().min(1).optional(),
    reason: z.string().min(1).optional(),
    requiresApproval: z.boolean().optional(),
    /** A fault's name, or `start`. */
    after: z.string().default("start"),
    /** Instead of `after`: from the first decision for the service whose reason matches this (e.g. a canary step). */
    afterDecision: z.string().min(1).optional(),
    /**
     * With `afterDecision`: count from that decision's window (`decided`) or from when its actuation came back applied
     * (`applied`: when its traffic really began, however long the actuator took).
     */
    anchorAt: z.enum(["decided", "applied"]).default("decided"),
    withinWindows: z.int().min(1).optional(),
    /** The decision's actuation must come back `applied`. */
    applied: z.boolean().default(false),
  }),
  /** No decision for `service` (by `controller`, reason matching `reason`) at all. */
  z.strictObject({ kind: z.literal("no-decision"), service: name, controller: z.string().min(1).optional(), reason: z.string().min(1).optional() }),
  /** The last weights published for `service`. */
  z.strictObject({ kind: z.literal("final-weights"), service: name, weights: z.record(z.string(), z.int().min(0).max(100)) }),
  /** A version's weight changes direction (up after down, or down after up) at most `max` times. */
  z.strictObject({ kind: z.literal("weight-reversals"), service: name, version: z.string().min(1), max: z.int().min(0) }),
]);

export const scenarioSchema = z.strictObject({
  name,
  description: z.string().min(1),
  /** The aggregator's window: expectations count in these. */
  window: duration.pipe(z.int().min(1000).max(60_000)).default(1000),
  /** Wall-clock limit of the run; it ends earlier once every expectation is settled. */
  duration: duration.pipe(z.int().min(5_000).max(600_000)),
  seed: z.int().default(1),
  /** Changes to the default topology (frontend -> checkout -> payments v1/v2 -> ledger, and fraud-api). */
  topology: z
    .strictObject({
      versions: z.record(name, z.array(z.strictObject({ version: z.string().min(1), instances: z.int().min(0).max(20) })).min(1)).default({}),
      latency: z.record(name, latency).default({}),
    })
    .default({ versions: {}, latency: {} }),
  /** Decision policies, as in a policy file's `policies:` list (docs/decision.md). */
  policies: z.array(z.record(z.string(), z.unknown())).min(1),
  load: z.strictObject({
    profile,
    routes: z.array(z.strictObject({ service: name.optional(), method: z.string().min(1), path: z.string().min(1), weight: z.number().gt(0) })).optional(),
    extraCallers: z.array(z.strictObject({ service: name, target: name, method: z.string().min(1), path: z.string().min(1), rps: z.number().gt(0), after: duration.default(0) })).optional(),
  }),
  faults: z.array(fault).default([]),
  expect: z.array(expectation).min(1),
}).superRefine((s, ctx) => {
  const faults = new Set(s.faults.map((f) => f.name));
  s.expect.forEach((e, i) => {
    if (e.kind === "decision" && e.after !== "start" && !faults.has(e.after)) {
      ctx.addIssue({ code: "custom", message: `after names no fault (faults: ${[...faults].join(", ") || "none"})`, path: ["expect", i, "after"] });
    }
  });
});

export type Scenario = z.output<typeof scenarioSchema>;
export type Expectation = Scenario["expect"][number];
export type ScenarioFault = Scenario["faults"][number];

/** Parses a scenario file; errors name the file and the path inside it. */
export function loadScenario(text: string, file: string): Scenario {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new ValidationError(`${file}: not valid YAML: ${(error as Error).message.split("\n")[0]}`, { context: { file } });
  }
  const result = scenarioSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
  throw new ValidationError(`${file}: ${issues.join("; ")}`, { context: { file } });
}
