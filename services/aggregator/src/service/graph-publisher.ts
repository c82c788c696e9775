import type { WindowAggregate } from "@meshloop/contracts";
import type { Logger, OpsRequest, OpsResponse } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import type { GraphEdge, GraphJson, GraphNode } from "../graph/graph.ts";
import { DependencyGraph } from "../graph/graph.ts";

const EDGES_KEY = "aggregator:graph:edges";

/**
 * The live dependency graph across all stage-2 instances. Each instance folds the aggregates it emits into a local
 * DependencyGraph and publishes its edges into one Redis hash (an edge reaches stage 2 in its caller's and its
 * callee's aggregate, possibly on two instances: both hold the same counts, and the earliest first-seen is kept).
 * Any instance serves `GET /graph` from Redis, so the answer does not depend on which instance is asked.
 */
export class GraphPublisher {
  readonly #graph: DependencyGraph;
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | null = null;
  #dirty = false;

  constructor(store: StateStore, logger: Logger, ttlMs = 600_000) {
    this.#graph = new DependencyGraph({ ttlMs });
    this.#store = store;
    this.#logger = logger;
    this.#ttlMs = ttlMs;
  }

  observe(aggregate: WindowAggregate): void {
    this.#graph.observe(aggregate);
    this.#dirty = true;
  }

  start(intervalMs = 2_000): void {
    this.#timer = setInterval(() => {
      this.publish().catch((error: unknown) => this.#logger.warn({ err: error }, "publishing the dependency graph failed"));
    }, intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.publish().catch(() => undefined);
  }

  async publish(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const local = this.#graph.toJSON();
    if (local.asOfMs !== null) this.#graph.expire(local.asOfMs);
    const stored = await this.#store.hashGetAll(EDGES_KEY);
    const fields: Record<string, string> = {};
    for (const edge of local.edges) {
      const key = edgeKey(edge);
      const before = stored[key] === undefined ? undefined : (JSON.parse(stored[key]) as GraphEdge);
      fields[key] = JSON.stringify(before === undefined ? edge : { ...edge, firstSeenMs: Math.min(before.firstSeenMs, edge.firstSeenMs) });
    }
    if (Object.keys(fields).length > 0) await this.#store.hashSet(EDGES_KEY, fields);
    const newest = Math.max(local.asOfMs ?? 0, ...Object.values(stored).map((json) => (JSON.parse(json) as GraphEdge).lastSeenMs));
    const expired = Object.entries(stored)
      .filter(([key, json]) => fields[key] === undefined && (JSON.parse(json) as GraphEdge).lastSeenMs < newest - this.#ttlMs)
      .map(([key]) => key);
    if (expired.length > 0) await this.#store.hashDelete(EDGES_KEY, ...expired);
  }

  /** `GET /graph[?service=name]`. */
  async handle(request: OpsRequest): Promise<OpsResponse> {
    const service = request.query.get("service") ?? undefined;
    const edges = Object.values(await this.#store.hashGetAll(EDGES_KEY))
      .map((json) => JSON.parse(json) as GraphEdge)
      .filter((edge) => service === undefined || edge.caller.service === service || edge.callee.service === service)
      .sort((a, b) => edgeKey(a).localeCompare(edgeKey(b)));
    const nodes = new Map<string, GraphNode>();
    for (const edge of edges) {
      for (const node of [{ ...edge.caller, virtual: false }, edge.callee]) {
        nodes.set(`${node.service}\0${node.namespace ?? ""}\0${node.virtual ? 1 : 0}`, { service: node.service, namespace: node.namespace, virtual: node.virtual });
      }
    }
    const body: GraphJson = {
      asOfMs: edges.length === 0 ? null : Math.max(...edges.map((edge) => edge.lastSeenMs)),
      rateWindowMs: this.#graph.toJSON().rateWindowMs,
      nodes: [...nodes.values()],
      edges,
    };
    return { body };
  }
}

function edgeKey(edge: GraphEdge): string {
  return `${edge.caller.namespace ?? ""}/${edge.caller.service}->${edge.callee.namespace ?? ""}/${edge.callee.service}${edge.callee.virtual ? "(virtual)" : ""}:${edge.connectionType}`;
}
