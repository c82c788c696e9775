/**
 * The bins of a sketch: a dense window of bin indexes over a Float64Array (float, because sampled spans weigh their
 * adjusted count), holding at most `maxBins` bins. Past that it collapses the lowest bins into the lowest kept one,
 * as DDSketch's CollapsingLowestDenseStore does: high quantiles (the ones latency alerts read) stay exact to the
 * sketch's accuracy, the lowest ones lose it first.
 *
 * The contents are a pure function of the multiset of inserted indexes: every weight at index j ends up at
 * max(j, hi - maxBins + 1) where hi is the highest index ever inserted. So inserting in any order, merging, and
 * restoring from the wire form (whose lowest and highest non-empty bins give back `minIndex` and `maxIndex`) all
 * give the same bins, which is what makes stage 2's merge equal one sketch over all the data.
 */

// Bins added beyond what an insertion needs when the window grows, so that growth does not copy on every new bin.
const GROWTH_SLACK = 16;
// Growth at least doubles the array (up to maxBins), so a sketch filling from one bin to a few hundred reallocates a
// handful of times rather than once per 16 new bins; maxBins still bounds the memory.
const GROWTH_FACTOR = 2;
const EMPTY = new Float64Array(0);

export class CollapsingLowestDenseStore {
  readonly maxBins: number;
  /** `counts[k]` holds bin `offset + k`. */
  private counts: Float64Array = EMPTY;
  private offset = 0;
  /** Lowest and highest non-empty bins; `maxIndex < minIndex` when empty. */
  private minIndex = 0;
  private maxIndex = -1;

  constructor(maxBins: number) {
    if (!Number.isInteger(maxBins) || maxBins < 1) throw new RangeError(`maxBins must be a positive integer, got ${maxBins}`);
    this.maxBins = maxBins;
  }

  get isEmpty(): boolean {
    return this.maxIndex < this.minIndex;
  }

  /** Bins in use, empty ones between them included. */
  get binCount(): number {
    return this.isEmpty ? 0 : this.maxIndex - this.minIndex + 1;
  }

  /** Bins allocated (what the store costs in memory, 8 bytes each). */
  get capacity(): number {
    return this.counts.length;
  }

  add(index: number, weight: number): void {
    const at = this.place(index);
    this.counts[at - this.offset]! += weight;
  }

  /** Calls `visit` for every non-empty bin, lowest index first. */
  forEach(visit: (index: number, count: number) => void): void {
    if (this.isEmpty) return;
    for (let i = this.minIndex; i <= this.maxIndex; i++) {
      const c = this.counts[i - this.offset]!;
      if (c > 0) visit(i, c);
    }
  }

  /** Adds every bin of `other`, highest first so that the collapse floor is set once. */
  mergeFrom(other: CollapsingLowestDenseStore): void {
    if (other.isEmpty) return;
    for (let i = other.maxIndex; i >= other.minIndex; i--) {
      const c = other.counts[i - other.offset]!;
      if (c > 0) this.add(i, c);
    }
  }

  /** The bin a new weight at `index` lands in, after widening the window or collapsing it. */
  private place(index: number): number {
    if (this.isEmpty) {
      this.reserve(index, index);
      this.minIndex = this.maxIndex = index;
      return index;
    }
    if (index > this.maxIndex) {
      const floor = index - this.maxBins + 1;
      if (floor > this.minIndex) {
        let collapsed = 0;
        const top = Math.min(this.maxIndex, floor - 1);
        for (let i = this.minIndex; i <= top; i++) {
          collapsed += this.counts[i - this.offset]!;
          this.counts[i - this.offset] = 0;
        }
        this.reserve(floor, index);
        this.counts[floor - this.offset]! += collapsed;
        this.minIndex = floor;
      } else {
        this.reserve(this.minIndex, index);
      }
      this.maxIndex = index;
      return index;
    }
    if (index < this.minIndex) {
      const target = Math.max(index, this.maxIndex - this.maxBins + 1);
      if (target < this.minIndex) {
        this.reserve(target, this.maxIndex);
        this.minIndex = target;
      }
      return target;
    }
    return index;
  }

  /** Makes the array cover bins lo..hi (at most maxBins of them), keeping the counts it already holds. */
  private reserve(lo: number, hi: number): void {
    const length = this.counts.length;
    if (lo >= this.offset && hi < this.offset + length) return;
    const capacity = Math.min(this.maxBins, Math.max(hi - lo + 1 + GROWTH_SLACK, length * GROWTH_FACTOR));
    // Slack goes on the side the window grows towards.
    const offset = hi >= this.offset + length ? lo : hi - capacity + 1;
    const next = new Float64Array(capacity);
    const from = Math.max(this.offset, offset);
    const to = Math.min(this.offset + length, offset + capacity);
    if (to > from) next.set(this.counts.subarray(from - this.offset, to - this.offset), from - offset);
    this.counts = next;
    this.offset = offset;
  }
}
