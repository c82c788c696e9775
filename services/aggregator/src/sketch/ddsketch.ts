import type { LatencySketch } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import { CollapsingLowestDenseStore } from "./dense-store.ts";
import type { LogMapping } from "./mapping.ts";
import { mappingFor } from "./mapping.ts";

export interface SketchOptions {
  /** Relative accuracy of every quantile (default 0.01). */
  readonly relativeAccuracy: number;
  /** Bound on the bins kept; the lowest collapse beyond it (see dense-store.ts). */
  readonly maxBins: number;
}

export const DEFAULT_SKETCH_OPTIONS: SketchOptions = { relativeAccuracy: 0.01, maxBins: 320 };

/**
 * A DDSketch of non-negative values (latencies in milliseconds): quantiles within `relativeAccuracy` of the exact
 * ones, mergeable by adding bins, weighted insertions for sampled spans. Values of 0 (and negative durations from
 * clocks that went backwards, which are clamped to 0) count in `zeroCount`.
 */
export class DDSketch {
  readonly mapping: LogMapping;
  readonly store: CollapsingLowestDenseStore;
  zeroCount = 0;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(options: SketchOptions = DEFAULT_SKETCH_OPTIONS) {
    this.mapping = mappingFor(options.relativeAccuracy);
    this.store = new CollapsingLowestDenseStore(options.maxBins);
  }

  get relativeAccuracy(): number {
    return this.mapping.relativeAccuracy;
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /** Adds `value` with `weight` (its adjusted count); non-finite values and non-positive weights are ignored. */
  add(value: number, weight = 1): void {
    if (!(weight > 0) || !Number.isFinite(value)) return;
    const v = value > 0 ? value : 0;
    if (v === 0) this.zeroCount += weight;
    else this.store.add(this.mapping.index(v), weight);
    this.count += weight;
    this.sum += v * weight;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  merge(other: DDSketch): void {
    this.checkCompatible(other.relativeAccuracy);
    if (other.isEmpty) return;
    this.store.mergeFrom(other.store);
    this.zeroCount += other.zeroCount;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * The value at quantile `q` (0..1), NaN when empty: the representative value of the bin holding the element of
   * rank floor(q * (count - 1)), clamped to [min, max] (which only brings it closer to the exact one).
   */
  quantile(q: number): number {
    if (this.count === 0 || !(q >= 0 && q <= 1)) return Number.NaN;
    if (q === 0) return this.min;
    if (q === 1) return this.max;
    const rank = q * (this.count - 1);
    if (rank < this.zeroCount) return 0;
    let cumulative = this.zeroCount;
    let found = Number.NaN;
    this.store.forEach((index, c) => {
      if (!Number.isNaN(found)) return;
      cumulative += c;
      if (cumulative > rank) found = this.mapping.value(index);
    });
    // Float sums of weights can leave the last bin a hair short of the rank.
    if (Number.isNaN(found)) return this.max;
    return Math.min(this.max, Math.max(this.min, found));
  }

  /** The contract's wire form; `count` is re-added from the bins exactly as the schema checks it. */
  toWire(): LatencySketch {
    const indexes: number[] = [];
    const counts: number[] = [];
    this.store.forEach((index, c) => {
      indexes.push(index);
      counts.push(c);
    });
    if (this.count === 0) {
      return { relativeAccuracy: this.relativeAccuracy, indexes, counts, zeroCount: 0, count: 0, sum: 0, min: 0, max: 0 };
    }
    const count = counts.reduce((a, b) => a + b, this.zeroCount);
    return { relativeAccuracy: this.relativeAccuracy, indexes, counts, zeroCount: this.zeroCount, count, sum: this.sum, min: this.min, max: this.max };
  }

  /** A sketch from its wire form; more bins than `maxBins` collapse as insertion would have collapsed them. */
  static fromWire(wire: LatencySketch, maxBins: number = DEFAULT_SKETCH_OPTIONS.maxBins): DDSketch {
    const sketch = new DDSketch({ relativeAccuracy: wire.relativeAccuracy, maxBins });
    sketch.addWire(wire);
    return sketch;
  }

  /** Merges a wire-form sketch into this one without building an intermediate sketch. */
  addWire(wire: LatencySketch): void {
    this.checkCompatible(wire.relativeAccuracy);
    if (wire.count === 0) return;
    for (let i = wire.indexes.length - 1; i >= 0; i--) this.store.add(wire.indexes[i]!, wire.counts[i]!);
    this.zeroCount += wire.zeroCount;
    this.count += wire.count;
    this.sum += wire.sum;
    if (wire.min < this.min) this.min = wire.min;
    if (wire.max > this.max) this.max = wire.max;
  }

  private checkCompatible(relativeAccuracy: number): void {
    if (relativeAccuracy !== this.relativeAccuracy) {
      throw new ValidationError(
        `cannot merge a sketch of relative accuracy ${relativeAccuracy} into one of ${this.relativeAccuracy}`,
        { context: { relativeAccuracy, expected: this.relativeAccuracy } },
      );
    }
  }
}
