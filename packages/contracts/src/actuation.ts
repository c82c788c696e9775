import { z } from "zod";
import { capabilityPartSchema } from "./capabilities.ts";
import { meshSchema, targetRefSchema } from "./target.ts";
import { issue } from "./validation.ts";

/**
 * What an actuator did with a decision. `refused` means another controller (a field manager, a GitOps tool) owns the
 * mesh object and meshloop did not force it; `stale` means a newer generation was applied already; `dry-run` means
 * the change was computed and checked (the mesh API's own dry run where it has one) but deliberately not made.
 */
export const actuationStatusSchema = z.enum([
  "applied",
  "failed",
  "stale",
  "awaiting-approval",
  "unsupported",
  "refused",
  "dry-run",
]);
export type ActuationStatus = z.infer<typeof actuationStatusSchema>;

export const resourceResultSchema = z.object({
  /** The mesh object's kind, e.g. `VirtualService`, `service-splitter`, `HTTPRoute`. */
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  status: z.enum(["applied", "unchanged", "failed", "skipped"]),
  message: z.string().optional(),
});
export type ResourceResult = z.infer<typeof resourceResultSchema>;

export const actuationResultSchema = z
  .object({
    decisionId: z.string().min(1),
    target: targetRefSchema,
    generation: z.int().positive(),
    mesh: meshSchema,
    status: actuationStatusSchema,
    reason: z.string().min(1),
    resources: z.array(resourceResultSchema),
    /** Desired-state parts this mesh could not carry out (see capabilities.ts); the rest may still be applied. */
    unsupported: z.array(z.object({ capability: capabilityPartSchema, reason: z.string().min(1) })),
    appliedAt: z.iso.datetime({ offset: true }).optional(),
    observedAt: z.iso.datetime({ offset: true }),
  })
  .superRefine((r, ctx) => {
    if (r.mesh !== r.target.mesh) {
      issue(ctx, `mesh ${r.mesh} is not the target's mesh ${r.target.mesh}`, ["mesh"]);
    }
    if (r.status === "applied" && r.appliedAt === undefined) {
      issue(ctx, "an applied result needs appliedAt", ["appliedAt"]);
    }
  });
export type ActuationResult = z.output<typeof actuationResultSchema>;
