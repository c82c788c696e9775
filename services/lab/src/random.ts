/** A small seedable generator (mulberry32), so routing and faults can be replayed in tests. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// z of the 99th percentile of the standard normal distribution.
const Z99 = 2.3263478740408408;

/** A log-normal sample with the given median and 99th percentile (p99 <= median gives the median, no spread). */
export function logNormal(random: Random, medianMs: number, p99Ms: number): number {
  const sigma = p99Ms > medianMs && medianMs > 0 ? Math.log(p99Ms / medianMs) / Z99 : 0;
  return medianMs * Math.exp(sigma * standardNormal(random));
}

function standardNormal(random: Random): number {
  // Box-Muller; 1 - u keeps the logarithm finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
