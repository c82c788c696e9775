import { ValidationError } from "@meshloop/errors";

/**
 * Whole-percent weights that sum to exactly 100 and give every version at least its floor. Shares are scaled to the
 * room above the floors and rounded by largest remainder (ties by version name), so the result is deterministic and
 * as close to the asked shares as whole percents allow.
 */
export function normalizeWeights(
  shares: Readonly<Record<string, number>>,
  floors: Readonly<Record<string, number>> = {},
): Record<string, number> {
  const versions = Object.keys(shares).sort();
  if (versions.length === 0) throw new ValidationError("weights need at least one version");
  const floor = (v: string) => Math.max(0, Math.ceil(floors[v] ?? 0));
  const floorSum = versions.reduce((sum, v) => sum + floor(v), 0);
  if (floorSum > 100) {
    throw new ValidationError(`weight floors sum to ${floorSum}, above 100`, { context: { floors: JSON.stringify(floors) } });
  }
  const room = 100 - floorSum;
  // What each version asks for above its floor; negative or non-finite asks count as nothing.
  const asks = versions.map((v) => {
    const share = shares[v]!;
    return Number.isFinite(share) ? Math.max(0, share - floor(v)) : 0;
  });
  const totalAsk = asks.reduce((a, b) => a + b, 0);
  const exact = asks.map((a, i) => (totalAsk > 0 ? (a / totalAsk) * room : i === 0 ? room : 0));
  const whole = exact.map(Math.floor);
  let left = room - whole.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, remainder: x - Math.floor(x) }))
    .sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    whole[i] = whole[i]! + 1;
    left--;
  }
  const out: Record<string, number> = {};
  versions.forEach((v, i) => {
    out[v] = floor(v) + whole[i]!;
  });
  return out;
}

export function weightsSum(weights: Readonly<Record<string, number>>): number {
  return Object.values(weights).reduce((a, b) => a + b, 0);
}
