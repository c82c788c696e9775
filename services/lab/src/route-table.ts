import { isDeepStrictEqual } from "node:util";
import type { DesiredState } from "@meshloop/contracts";

/**
 * The route table the data plane obeys: per service of the lab's namespace, the desired state last applied and its
 * generation. Generations only move forward; the same generation again is accepted only with the same state.
 */

export interface RouteEntry {
  generation: number;
  desiredState: DesiredState;
}

export type ApplyResult =
  | { kind: "applied"; changed: boolean; previous: RouteEntry | null }
  | { kind: "conflict"; appliedGeneration: number; reason: string };

export class RouteTable {
  private readonly entries = new Map<string, RouteEntry>();

  get(service: string): RouteEntry | null {
    return this.entries.get(service) ?? null;
  }

  /** The state the data plane routes by; null while no decision reached the service. */
  stateOf(service: string): DesiredState | null {
    return this.entries.get(service)?.desiredState ?? null;
  }

  /** The conflict applying this would meet, or null; lets a caller check before side effects (scaling). */
  check(service: string, generation: number, desiredState: DesiredState): Extract<ApplyResult, { kind: "conflict" }> | null {
    const previous = this.entries.get(service);
    if (!previous) return null;
    if (generation < previous.generation) {
      return { kind: "conflict", appliedGeneration: previous.generation, reason: `generation ${generation} is older than the applied ${previous.generation}` };
    }
    if (generation === previous.generation && !isDeepStrictEqual(previous.desiredState, desiredState)) {
      return { kind: "conflict", appliedGeneration: previous.generation, reason: `generation ${generation} was applied already with a different desired state` };
    }
    return null;
  }

  apply(service: string, generation: number, desiredState: DesiredState): ApplyResult {
    const conflict = this.check(service, generation, desiredState);
    if (conflict) return conflict;
    const previous = this.entries.get(service) ?? null;
    const changed = previous === null || !isDeepStrictEqual(previous.desiredState, desiredState);
    this.entries.set(service, { generation, desiredState });
    return { kind: "applied", changed, previous };
  }

  services(): string[] {
    return [...this.entries.keys()];
  }
}
