import type { ServerResponse } from "node:http";

/**
 * Server-sent events to every open page. Each connection starts with the events `initial` returns (a snapshot), so
 * a page that reconnects after a restart of the console is whole again without a second request.
 */

export interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
}

export interface EventStreamOptions {
  /** Comment lines keep idle connections open through proxies that cut silent ones. */
  heartbeatMs?: number;
  /** What EventSource waits before reconnecting after the connection drops. */
  retryMs?: number;
  /** A page that reads slower than events come is dropped past this many unsent bytes; it reconnects afresh. */
  maxBufferedBytes?: number;
}

export class EventStream {
  readonly #clients = new Set<ServerResponse>();
  readonly #retryMs: number;
  readonly #maxBuffered: number;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(options: EventStreamOptions = {}) {
    this.#retryMs = options.retryMs ?? 2_000;
    this.#maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.#heartbeat = setInterval(() => this.#write(": keep-alive\n\n"), options.heartbeatMs ?? 15_000);
    this.#heartbeat.unref();
  }

  get clients(): number {
    return this.#clients.size;
  }

  open(res: ServerResponse, initial: readonly StreamEvent[]): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      // nginx and similar buffer responses unless told not to, which would hold events back.
      "x-accel-buffering": "no",
    });
    res.write(`retry: ${this.#retryMs}\n\n`);
    for (const e of initial) res.write(frame(e));
    this.#clients.add(res);
    res.on("close", () => this.#clients.delete(res));
  }

  send(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    this.#write(frame({ event, data }));
  }

  close(): void {
    clearInterval(this.#heartbeat);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #write(text: string): void {
    for (const res of this.#clients) {
      if (res.writableLength > this.#maxBuffered) {
        this.#clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}

/** One event; JSON has no raw newlines, so the data fits on one `data:` line. */
export function frame(e: StreamEvent): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}
