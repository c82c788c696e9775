import { sketchGamma } from "@meshloop/contracts";

/**
 * DDSketch's logarithmic index mapping, as the contract defines it: bin `i` holds the values in
 * (gamma^(i-1), gamma^i] with gamma = (1 + a) / (1 - a), so any value of a bin is within relative accuracy `a` of the
 * bin's representative value gamma^(i-1) * (1 + a).
 */
export class LogMapping {
  readonly relativeAccuracy: number;
  readonly gamma: number;
  /** 1 / ln(gamma): turns a natural logarithm into a bin index with one multiplication. */
  readonly multiplier: number;

  constructor(relativeAccuracy: number) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) {
      throw new RangeError(`relativeAccuracy must be in (0, 1), got ${relativeAccuracy}`);
    }
    this.relativeAccuracy = relativeAccuracy;
    this.gamma = sketchGamma(relativeAccuracy);
    this.multiplier = 1 / Math.log(this.gamma);
  }

  /** The bin of a positive value (| 0: a small integer, and never -0, which JSON would write as 0). */
  index(value: number): number {
    return Math.ceil(Math.log(value) * this.multiplier) | 0;
  }

  /** The value a bin stands for: equally far, relatively, from both ends of the bin. */
  value(index: number): number {
    return Math.exp((index - 1) / this.multiplier) * (1 + this.relativeAccuracy);
  }
}

// Sketches of one accuracy share one mapping; configurations use one or two accuracies.
const mappings = new Map<number, LogMapping>();

export function mappingFor(relativeAccuracy: number): LogMapping {
  let mapping = mappings.get(relativeAccuracy);
  if (mapping === undefined) {
    mapping = new LogMapping(relativeAccuracy);
    if (mappings.size < 64) mappings.set(relativeAccuracy, mapping);
  }
  return mapping;
}
