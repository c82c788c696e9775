/**
 * Which spans partitions are still moving, in the time of stage 2's ticks (the wall clock in the service). A window
 * waiting for a partition that is alive but behind (a backlog being read after an outage, a slow consumer) keeps
 * waiting however far the others are ahead in event time; only a partition whose watermark has not moved for the
 * completeness timeout is given up on. Before the first tick nothing is known: every partition counts as moving when
 * `assumeAlive` (the service, whose ticks start with it), as stopped otherwise (pure use, where event time decides).
 */
export class PartitionLiveness {
  readonly #timeoutMs: number;
  /** The highest watermark each partition reported, for any service. */
  readonly #marks = new Map<number, number>();
  readonly #seenAtTick = new Map<number, number>();
  readonly #movedAtMs = new Map<number, number>();
  #ticksBeganMs: number | null = null;
  #lastTickMs: number | null = null;

  readonly #assumeAlive: boolean;

  constructor(timeoutMs: number, assumeAlive: boolean) {
    this.#timeoutMs = timeoutMs;
    this.#assumeAlive = assumeAlive;
  }

  report(partition: number, watermarkMs: number): void {
    if (watermarkMs > (this.#marks.get(partition) ?? Number.NEGATIVE_INFINITY)) this.#marks.set(partition, watermarkMs);
  }

  /** Notes which partitions moved since the last tick. */
  tick(nowMs: number): void {
    this.#ticksBeganMs ??= nowMs;
    this.#lastTickMs = nowMs;
    for (const [partition, mark] of this.#marks) {
      if (this.#seenAtTick.get(partition) !== mark) {
        this.#seenAtTick.set(partition, mark);
        this.#movedAtMs.set(partition, nowMs);
      }
    }
  }

  /** Moved within the timeout (a partition not heard from since ticks began counts from then). */
  alive(partition: number): boolean {
    if (this.#lastTickMs === null) return this.#assumeAlive;
    const moved = this.#movedAtMs.get(partition) ?? this.#ticksBeganMs!;
    return this.#lastTickMs - moved < this.#timeoutMs;
  }
}
