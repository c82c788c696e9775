import type { TargetRef } from "@meshloop/contracts";
import type { ConnectionType, EdgeCallee, EdgeCaller } from "../series/series-set.ts";
import type { PeerFacts } from "../spans/span-reader.ts";
import { KIND_CONSUMER, KIND_PRODUCER } from "../spans/classify.ts";

const BUCKET_MS = 100;

/**
 * Pairing of a caller's CLIENT (PRODUCER) span with the callee's SERVER (CONSUMER) child, as the OpenTelemetry
 * Collector's servicegraph connector does it: clients wait under (trace id, span id), servers under (trace id,
 * parent span id), and whichever comes second completes the edge. Trace-id partitioning brings both to this store.
 *
 * Unpaired spans expire after a TTL, here in event time: a span expires once the partition's watermark passes
 * max(its end time, the watermark its record sets) + `ttlMs` (rounded up to 100 ms). The watermark already trails the record timestamps by
 * the allowed lateness, so a partner that ingest received up to lateness + TTL after this span still pairs. An
 * expired CLIENT span that names its peer (`peer.service`, `server.address`, `db.system`, ...) becomes an edge to a
 * virtual node; every expired span is counted. A window with waiting CLIENT spans is held open until they pair or
 * expire (`heldWindowStart`), so an edge always lands in the window of its CLIENT span: closing is delayed by at
 * most the TTL.
 */

interface PendingBase {
  readonly key: string;
  /** Arrival order, to expire equal deadlines in a reproducible order; set when stored. */
  seq: number;
  readonly deadline: number;
  readonly kind: number;
  readonly node: EdgeCaller;
  readonly target: TargetRef | undefined;
  readonly weight: number;
  readonly samplingKnown: boolean;
  readonly error: boolean;
  readonly status: number;
}

export interface PendingClient extends PendingBase {
  readonly side: "client";
  /** The window the edge will be counted in (the CLIENT span's, or where a late one was carried to). */
  readonly windowStartMs: number;
  readonly durationMs: number;
  readonly peer: PeerFacts | undefined;
}

export interface PendingServer extends PendingBase {
  readonly side: "server";
  readonly callee: EdgeCallee;
}

export type PendingSpan = PendingClient | PendingServer;

/** A completed edge, or a virtual one from an expired CLIENT span. */
export interface EdgeEvent {
  readonly windowStartMs: number;
  readonly caller: EdgeCaller;
  readonly callerTarget: TargetRef | undefined;
  readonly callee: EdgeCallee;
  /** Undefined for virtual callees and callees that resolve to no target. */
  readonly calleeTarget: TargetRef | undefined;
  readonly connectionType: ConnectionType;
  readonly weight: number;
  readonly samplingKnown: boolean;
  readonly durationMs: number;
  readonly error: boolean;
  readonly status: number;
}

export interface PairingCounts {
  paired: number;
  /** Expired CLIENT/PRODUCER spans, those that became virtual edges included. */
  expiredClients: number;
  virtualEdges: number;
  expiredServers: number;
  /** Spans not stored because the store was full (servicegraph's dropped spans). */
  dropped: number;
}

export interface PairingSnapshot {
  readonly seq: number;
  readonly pending: PendingSpan[];
  readonly counts: PairingCounts;
}

export class PairingStore {
  readonly ttlMs: number;
  readonly maxPending: number;
  private readonly clients = new Map<string, PendingClient>();
  private readonly servers = new Map<string, PendingServer>();
  /** Waiting CLIENT spans per window, which keep that window open. */
  private readonly held = new Map<number, number>();
  /** Waiting spans by deadline, in 100 ms buckets; paired ones stay until their bucket comes due and are skipped. */
  private readonly buckets = new Map<number, PendingSpan[]>();
  private firstBucket = Number.POSITIVE_INFINITY;
  private seq = 0;
  readonly counts: PairingCounts = { paired: 0, expiredClients: 0, virtualEdges: 0, expiredServers: 0, dropped: 0 };

  constructor(ttlMs: number, maxPending: number) {
    this.ttlMs = ttlMs;
    this.maxPending = maxPending;
  }

  get size(): number {
    return this.clients.size + this.servers.size;
  }

  deadline(eventTimeMs: number, watermarkMs: number): number {
    return Math.max(eventTimeMs, watermarkMs) + this.ttlMs;
  }

  /** A CLIENT/PRODUCER span: the edge if its SERVER/CONSUMER child is waiting, else it waits. */
  client(span: PendingClient): EdgeEvent | undefined {
    const server = this.servers.get(span.key);
    if (server !== undefined) {
      this.servers.delete(span.key);
      this.counts.paired++;
      return pairedEdge(span, server);
    }
    if (this.clients.has(span.key) || this.size >= this.maxPending) {
      this.counts.dropped++;
      return undefined;
    }
    span.seq = this.seq++;
    this.store(span);
    return undefined;
  }

  /** A SERVER/CONSUMER span with a parent: the edge if its parent CLIENT span is waiting, else it waits. */
  server(span: PendingServer): EdgeEvent | undefined {
    const client = this.clients.get(span.key);
    if (client !== undefined) {
      this.unhold(client);
      this.clients.delete(span.key);
      this.counts.paired++;
      return pairedEdge(client, span);
    }
    if (this.servers.has(span.key)) {
      // A second child of one CLIENT span (the first is waiting for it): it can never pair.
      this.counts.expiredServers++;
      return undefined;
    }
    if (this.size >= this.maxPending) {
      this.counts.dropped++;
      return undefined;
    }
    span.seq = this.seq++;
    this.store(span);
    return undefined;
  }

  /**
   * Expires every span whose deadline, rounded up to the next 100 ms, the watermark reached; returns the virtual
   * edges, in deadline order. (The rounding lets expiry take whole buckets instead of sifting spans one by one.)
   */
  expire(watermarkMs: number): EdgeEvent[] {
    const last = Math.floor(watermarkMs / BUCKET_MS);
    if (this.firstBucket > last) return [];
    const due: PendingSpan[] = [];
    let first = Number.POSITIVE_INFINITY;
    for (const [bucket, spans] of this.buckets) {
      if (bucket <= last) {
        for (const span of spans) if (this.isWaiting(span)) due.push(span);
        this.buckets.delete(bucket);
      } else if (bucket < first) first = bucket;
    }
    this.firstBucket = first;
    if (due.length === 0) return [];
    due.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
    const edges: EdgeEvent[] = [];
    for (const span of due) {
      if (span.side === "client") {
        this.clients.delete(span.key);
        this.unhold(span);
        this.counts.expiredClients++;
        if (span.peer !== undefined) {
          this.counts.virtualEdges++;
          edges.push(virtualEdge(span, span.peer));
        }
      } else {
        this.servers.delete(span.key);
        this.counts.expiredServers++;
      }
    }
    return edges;
  }

  /** The earliest window a waiting CLIENT span holds open; Infinity when none does. */
  heldWindowStart(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const start of this.held.keys()) if (start < min) min = start;
    return min;
  }

  snapshot(): PairingSnapshot {
    return { seq: this.seq, pending: [...this.clients.values(), ...this.servers.values()], counts: { ...this.counts } };
  }

  static restore(ttlMs: number, maxPending: number, snapshot: PairingSnapshot): PairingStore {
    const store = new PairingStore(ttlMs, maxPending);
    for (const span of snapshot.pending) store.store(span);
    store.seq = snapshot.seq;
    Object.assign(store.counts, snapshot.counts);
    return store;
  }

  private store(span: PendingSpan): void {
    if (span.side === "client") {
      this.clients.set(span.key, span);
      this.held.set(span.windowStartMs, (this.held.get(span.windowStartMs) ?? 0) + 1);
    } else {
      this.servers.set(span.key, span);
    }
    this.schedule(span);
  }

  private unhold(client: PendingClient): void {
    const n = (this.held.get(client.windowStartMs) ?? 0) - 1;
    if (n > 0) this.held.set(client.windowStartMs, n);
    else this.held.delete(client.windowStartMs);
  }

  /** Whether the span still waits (not paired meanwhile). */
  private isWaiting(span: PendingSpan): boolean {
    return (span.side === "client" ? this.clients.get(span.key) : this.servers.get(span.key)) === span;
  }

  private schedule(span: PendingSpan): void {
    const bucket = Math.ceil(span.deadline / BUCKET_MS);
    if (bucket < this.firstBucket) this.firstBucket = bucket;
    const spans = this.buckets.get(bucket);
    if (spans === undefined) this.buckets.set(bucket, [span]);
    else spans.push(span);
  }
}

function pairedEdge(client: PendingClient, server: PendingServer): EdgeEvent {
  const messaging = client.kind === KIND_PRODUCER || server.kind === KIND_CONSUMER;
  // The callee's view decides the response class when it has one; the caller's adds failures the callee never saw.
  const known = client.samplingKnown ? client : server;
  return {
    windowStartMs: client.windowStartMs,
    caller: client.node,
    callerTarget: client.target,
    callee: server.callee,
    calleeTarget: server.target,
    connectionType: messaging ? "messaging_system" : "direct",
    weight: known.weight,
    samplingKnown: known.samplingKnown,
    durationMs: client.durationMs,
    error: server.error || client.error,
    status: server.status !== 0 ? server.status : client.status,
  };
}

function virtualEdge(client: PendingClient, peer: PeerFacts): EdgeEvent {
  return {
    windowStartMs: client.windowStartMs,
    caller: client.node,
    callerTarget: client.target,
    callee: peer.callee,
    calleeTarget: undefined,
    connectionType: peer.connectionType,
    weight: client.weight,
    samplingKnown: client.samplingKnown,
    durationMs: client.durationMs,
    error: client.error,
    status: client.status,
  };
}
