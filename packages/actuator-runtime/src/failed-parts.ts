import type { Failure, Translation } from "@meshloop/actuator-kit";
import type { ResourceResult } from "@meshloop/contracts";

/** What the appliers read of any mesh's translation besides its writes (whatever form those take). */
export type TranslationReport = Pick<Translation<unknown, unknown>, "unsupported" | "refused" | "failed" | "recommendations" | "warnings">;

/**
 * The parts a translation could not carry out, as entries of the result's `resources`, so the result lists exactly
 * what was written and what was not: named by the object they would have been written to when the translation knows
 * it, else as `part` named by the desired-state parts (`weights+retries`).
 */
export function failedPartResults(failed: readonly Failure[]): ResourceResult[] {
  return failed.map((f) => {
    // No parts: a failure of meshloop's own upkeep (undoing its change to a user's object), said as it is.
    const parts = f.capabilities.join("+");
    const named = f.ref === undefined ? { kind: "part", name: parts === "" ? "translation" : parts } : { kind: f.ref.kind, name: f.ref.name, ...(f.ref.namespace === undefined || f.ref.namespace === "" ? {} : { namespace: f.ref.namespace }) };
    return { ...named, status: "failed", message: parts === "" ? f.reason : `${parts} not written: ${f.reason}` };
  });
}

/** The failed parts in one phrase for a result's reason (`weights failed: …; retries failed: …`); null when none. */
export function describeFailures(failed: readonly Failure[]): string | null {
  if (failed.length === 0) return null;
  return failed.map((f) => (f.capabilities.length === 0 ? f.reason : `${f.capabilities.join(", ")} failed: ${f.reason}`)).join("; ");
}
