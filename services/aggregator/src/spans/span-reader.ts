import type { Locality, ResolutionConfig, TargetRef } from "@meshloop/contracts";
import { resolveTarget } from "@meshloop/contracts";
import type { ResourceSummary, SpanCursor } from "@meshloop/otlp";
import { visitSpans } from "@meshloop/otlp";
import type { EdgeCallee, EdgeCaller } from "../series/series-set.ts";
import { instanceKey } from "../series/series-set.ts";
import { ATTR, SpanAttributes } from "./attributes.ts";
import type { VirtualPeer } from "./classify.ts";
import {
  isCallError,
  isServiceError,
  KIND_CONSUMER,
  KIND_SERVER,
  routeOf,
  statusBits,
  virtualPeerOf,
} from "./classify.ts";
import { attributeAdjustedCount, TracestateCache } from "./sampling.ts";

/** What the aggregator needs of a resource, worked out once per distinct resource rather than per span. */
export interface ResourceFacts {
  /** `service.name` (or `unknown_service[:exe]`): keys partials and ids. */
  readonly service: string;
  /** The target, or undefined when the resource resolves to none: its spans are counted, not aggregated. */
  readonly target: TargetRef | undefined;
  /** `service.version`, else "unknown". */
  readonly version: string;
  /** `service.instance.id`, else `k8s.pod.name`, else `host.name`, else "unknown". */
  readonly instance: string;
  readonly locality: Locality;
  readonly instanceKey: string;
  /** How edges name the service: its name and namespace (the target's, else `k8s.namespace.name`, else null). */
  readonly node: EdgeCaller;
  /** The same as a callee. */
  readonly callee: EdgeCallee;
}

/** A virtual peer with its callee, shared by all spans naming it (edge keys are cached by these objects). */
export interface PeerFacts extends VirtualPeer {
  readonly callee: EdgeCallee;
}

export const UNKNOWN = "unknown";

/** One span as stage 1 folds it; objects are pooled and reused record after record. */
export class SpanFacts {
  kind = 0;
  statusCode = 0;
  endMs = 0;
  durationMs = 0;
  // Byte ranges of the ids in the record's buffer (valid while the record is being folded).
  traceStart = 0;
  traceEnd = 0;
  spanStart = 0;
  spanEnd = 0;
  parentStart = -1;
  parentEnd = -1;
  resource!: ResourceFacts;
  route: string | undefined = undefined;
  httpStatus = 0;
  grpcStatus = -1;
  /** STATUS_* bits. */
  status = 0;
  /** For SERVER and CONSUMER spans whether the service failed it; for CLIENT and PRODUCER whether the call failed. */
  error = false;
  /** The callee a CLIENT or PRODUCER span names, should no SERVER or CONSUMER span pair with it. */
  peer: PeerFacts | undefined = undefined;
  weight = 1;
  samplingKnown = false;

  get isServerSide(): boolean {
    return this.kind === KIND_SERVER || this.kind === KIND_CONSUMER;
  }

  /** Whether the span names a parent (an 8-byte parent span id; other lengths are invalid and name none). */
  get hasParent(): boolean {
    return this.parentEnd - this.parentStart === 8;
  }
}

export interface SpanReaderOptions {
  readonly resolution: ResolutionConfig;
  readonly grpcErrorCodes: ReadonlySet<number>;
}

export interface ReadCounts {
  /** Spans of kind INTERNAL or unspecified: no request, no edge. */
  ignored: number;
  /** Spans whose trace id is not 16 bytes or span id not 8: cannot be deduplicated or paired. */
  invalid: number;
}

const MAX_RESOURCES = 8192;
const MAX_PEERS = 8192;

/**
 * Phase one of folding a record: reads every SERVER, CLIENT, PRODUCER and CONSUMER span into pooled SpanFacts
 * without touching any aggregation state, so a malformed record throws before anything was counted and a record is
 * folded whole or not at all.
 */
export class SpanReader {
  readonly options: SpanReaderOptions;
  private readonly pool: SpanFacts[] = [];
  private readonly attributes = new SpanAttributes();
  private readonly tracestates = new TracestateCache();
  private readonly resources = new Map<string, ResourceFacts>();
  private readonly peers = new Map<string, Map<string, PeerFacts>>();
  private lastSummary: ResourceSummary | undefined;
  private lastResource: ResourceFacts | undefined;

  constructor(options: SpanReaderOptions) {
    this.options = options;
  }

  /** Reads a record; returns how many pooled facts (`facts(i)`, i < n) it filled. */
  read(value: Uint8Array, counts: ReadCounts): number {
    let n = 0;
    this.lastSummary = undefined;
    visitSpans(value, (cursor) => {
      const kind = cursor.kind;
      if (kind < KIND_SERVER || kind > KIND_CONSUMER) {
        counts.ignored++;
        return;
      }
      if (cursor.traceIdEnd - cursor.traceIdStart !== 16 || cursor.spanIdEnd - cursor.spanIdStart !== 8) {
        counts.invalid++;
        return;
      }
      let facts = this.pool[n];
      if (facts === undefined) {
        facts = new SpanFacts();
        this.pool.push(facts);
      }
      this.fill(facts, cursor);
      n++;
    });
    return n;
  }

  facts(i: number): SpanFacts {
    return this.pool[i]!;
  }

  private fill(f: SpanFacts, c: SpanCursor): void {
    f.kind = c.kind;
    f.statusCode = c.statusCode;
    f.endMs = c.endTimeUnixNano / 1e6;
    f.durationMs = c.durationNanos > 0 ? c.durationNanos / 1e6 : 0;
    f.traceStart = c.traceIdStart;
    f.traceEnd = c.traceIdEnd;
    f.spanStart = c.spanIdStart;
    f.spanEnd = c.spanIdEnd;
    f.parentStart = c.parentStart;
    f.parentEnd = c.parentEnd;
    f.resource = this.resourceOf(c.resource);

    const a = this.attributes;
    a.scan(c.buf, c.bodyStart, c.bodyEnd);
    f.httpStatus = a.number(ATTR.httpResponseStatusCode) ?? a.number(ATTR.httpStatusCode) ?? 0;
    f.grpcStatus = a.number(ATTR.rpcGrpcStatusCode) ?? -1;
    f.status = statusBits(f.httpStatus, f.grpcStatus);
    const grpcErrors = this.options.grpcErrorCodes;
    if (f.isServerSide) {
      f.error = isServiceError(f, grpcErrors);
      f.route = routeOf(a.string(ATTR.httpRoute), a.string(ATTR.rpcService), a.string(ATTR.rpcMethod));
      f.peer = undefined;
    } else {
      f.error = isCallError(f, grpcErrors);
      f.route = undefined;
      f.peer = this.peerOf(
        virtualPeerOf(f.kind, {
          peerService: a.string(ATTR.peerService),
          serverAddress: a.string(ATTR.serverAddress),
          netPeerName: a.string(ATTR.netPeerName),
          dbSystem: a.string(ATTR.dbSystemName) ?? a.string(ATTR.dbSystem),
          messagingSystem: a.string(ATTR.messagingSystem),
        }),
      );
    }
    this.weigh(f, a);
  }

  private peerOf(peer: VirtualPeer | undefined): PeerFacts | undefined {
    if (peer === undefined) return undefined;
    let byName = this.peers.get(peer.connectionType);
    if (byName === undefined) this.peers.set(peer.connectionType, (byName = new Map<string, PeerFacts>()));
    let facts = byName.get(peer.name);
    if (facts === undefined) {
      facts = { ...peer, callee: { service: peer.name, namespace: null, virtual: true } };
      if (byName.size >= MAX_PEERS) byName.clear();
      byName.set(peer.name, facts);
    }
    return facts;
  }

  private weigh(f: SpanFacts, a: SpanAttributes): void {
    let weight = a.traceStateStart >= 0 ? this.tracestates.adjustedCount(a.traceState()) : 0;
    if (weight === 0 && (a.has(ATTR.samplingAdjustedCount) || a.has(ATTR.samplingProbability) || a.has(ATTR.samplerType))) {
      weight =
        attributeAdjustedCount({
          adjustedCount: a.scalar(ATTR.samplingAdjustedCount),
          probability: a.scalar(ATTR.samplingProbability),
          samplerType: a.scalar(ATTR.samplerType),
          samplerParam: a.scalar(ATTR.samplerParam),
        }) ?? 0;
    }
    f.samplingKnown = weight > 0;
    f.weight = weight > 0 ? weight : 1;
  }

  private resourceOf(summary: ResourceSummary): ResourceFacts {
    if (summary === this.lastSummary && this.lastResource !== undefined) return this.lastResource;
    const a = summary.attributes;
    const key = [
      summary.service,
      a.k8sNamespaceName,
      a.serviceVersion,
      a.serviceInstanceId,
      a.k8sPodName,
      a.hostName,
      a.cloudRegion,
      a.cloudAvailabilityZone,
      a.k8sClusterName,
    ].join("\0");
    let facts = this.resources.get(key);
    if (facts === undefined) {
      facts = this.resolve(summary);
      if (this.resources.size >= MAX_RESOURCES) this.resources.clear();
      this.resources.set(key, facts);
    }
    this.lastSummary = summary;
    this.lastResource = facts;
    return facts;
  }

  private resolve(summary: ResourceSummary): ResourceFacts {
    const a = summary.attributes;
    const resolved = resolveTarget(
      { "service.name": summary.service, "k8s.namespace.name": a.k8sNamespaceName },
      this.options.resolution,
    );
    const target = resolved.ok ? resolved.target : undefined;
    const version = a.serviceVersion || UNKNOWN;
    const instance = a.serviceInstanceId || a.k8sPodName || a.hostName || UNKNOWN;
    const node = { service: summary.service, namespace: target?.namespace ?? (a.k8sNamespaceName || null) };
    return {
      service: summary.service,
      target,
      version,
      instance,
      locality: { region: a.cloudRegion || null, zone: a.cloudAvailabilityZone || null, cluster: a.k8sClusterName || null },
      instanceKey: instanceKey(version, instance),
      node,
      callee: { ...node, virtual: false },
    };
  }
}
