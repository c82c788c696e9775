import type { Proposal } from "../controller.ts";
import { actionRank } from "../controller.ts";

/**
 * At most one action per target and evaluation: the most important proposal that the guardrails allow now
 * (rollback > ejection > failover > backpressure > retries > weight shift > scaling > security). Proposals after
 * the winner wait for a later evaluation, so that the windows after a change show the effect of that change alone.
 * A blocked proposal does not stop the ones after it: an urgent rollback skips the cooldown that holds a weight
 * shift, whatever their order.
 */
export interface Candidate {
  readonly name: string;
  readonly proposal: Proposal;
}

export interface Selection {
  readonly winner: Candidate | null;
  /** Why each other candidate did not go out, by name. */
  readonly held: ReadonlyMap<string, string>;
}

export function selectAction(candidates: readonly Candidate[], blockedBecause: (p: Proposal) => string | null): Selection {
  const ranked = [...candidates].sort((a, b) => actionRank(a.proposal.kind) - actionRank(b.proposal.kind));
  let winner: Candidate | null = null;
  const held = new Map<string, string>();
  for (const c of ranked) {
    if (winner !== null) {
      held.set(c.name, `${winner.proposal.controller}'s ${winner.proposal.kind} goes first`);
      continue;
    }
    const why = blockedBecause(c.proposal);
    if (why === null) winner = c;
    else held.set(c.name, why);
  }
  return { winner, held };
}
