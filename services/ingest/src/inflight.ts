/**
 * Bounds the bytes the ingest holds at once: bodies being read, split, or waiting for Kafka. A request that would
 * pass the bound is refused at once with a retryable answer, so backpressure travels to the exporters (which hold
 * and retry) instead of the ingest buffering without limit or dropping data silently.
 */
export class InflightBytes {
  readonly #limit: number;
  #used = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** An empty reservation that grows as the body arrives. */
  reserve(): Reservation {
    return new Reservation(this);
  }

  /** With nothing reserved anything gets in, so one request larger than the limit is not refused forever. */
  tryTake(bytes: number): boolean {
    if (this.#used > 0 && this.#used + bytes > this.#limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}

/**
 * One request's share. It is given back when the request is answered *and* Kafka is done with its records, which
 * can be later: a request answered 503 after the produce timeout still holds memory until the send settles.
 */
export class Reservation {
  readonly #pool: InflightBytes;
  #bytes = 0;
  #holds = 0;
  #releaseWanted = false;
  #released = false;

  constructor(pool: InflightBytes) {
    this.#pool = pool;
  }

  get bytes(): number {
    return this.#bytes;
  }

  tryGrow(bytes: number): boolean {
    if (!this.#pool.tryTake(bytes)) return false;
    this.#bytes += bytes;
    return true;
  }

  /** Keeps the bytes reserved until `work` settles, whatever the request's answer was. */
  holdUntil(work: Promise<unknown>): void {
    this.#holds++;
    const done = (): void => {
      this.#holds--;
      this.#maybeRelease();
    };
    work.then(done, done);
  }

  release(): void {
    this.#releaseWanted = true;
    this.#maybeRelease();
  }

  #maybeRelease(): void {
    if (this.#released || !this.#releaseWanted || this.#holds > 0) return;
    this.#released = true;
    this.#pool.give(this.#bytes);
  }
}
