import { z } from "zod";
import { UnavailableError } from "@meshloop/errors";
import type { GraphView } from "../state/signals.ts";

/**
 * The dependency graph the page draws: the aggregator's `GET /graph` when its ops URL is configured (it merges the
 * edges of every stage-2 instance), else the one built from the aggregates this console reads. A failing aggregator
 * falls back to the local graph with the reason, so the page keeps drawing.
 */

const nodeSchema = z.object({ service: z.string(), namespace: z.string().nullable(), virtual: z.boolean() });
const graphSchema = z.object({
  asOfMs: z.number().nullable(),
  rateWindowMs: z.number(),
  nodes: z.array(nodeSchema),
  edges: z.array(
    z.object({
      caller: z.object({ service: z.string(), namespace: z.string().nullable() }),
      callee: nodeSchema,
      connectionType: z.string(),
      rate: z.number(),
      errorRate: z.number().nullable(),
      requestsTotal: z.number(),
      errorsTotal: z.number(),
    }),
  ),
});

export interface GraphSourceOptions {
  /** The aggregator's ops URL; undefined: always the local graph. */
  aggregatorUrl?: string | undefined;
  local: () => GraphView;
  timeoutMs?: number;
  /** Every open page polls the graph; one answer serves them all for this long. */
  cacheMs?: number;
  fetch?: typeof fetch;
}

export class GraphSource {
  readonly #options: GraphSourceOptions;
  readonly #fetch: typeof fetch;
  #cached: { at: number; graph: Promise<GraphView> } | null = null;

  constructor(options: GraphSourceOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  async graph(): Promise<GraphView> {
    const url = this.#options.aggregatorUrl;
    if (url === undefined) return this.#options.local();
    const now = Date.now();
    if (this.#cached === null || now - this.#cached.at > (this.#options.cacheMs ?? 2_000)) {
      this.#cached = { at: now, graph: this.#remote(url).catch((error: unknown) => ({ ...this.#options.local(), error: (error as Error).message })) };
    }
    return this.#cached.graph;
  }

  async #remote(base: string): Promise<GraphView> {
    const url = `${base.replace(/\/+$/, "")}/graph`;
    let response: Response;
    try {
      response = await this.#fetch(url, { signal: AbortSignal.timeout(this.#options.timeoutMs ?? 2_000), headers: { accept: "application/json" } });
    } catch (error) {
      throw new UnavailableError(`the aggregator's graph at ${url} did not answer (${(error as Error).message})`, { cause: error, context: { url } });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new UnavailableError(`the aggregator's graph at ${url} answered ${response.status}`, { context: { url, status: response.status } });
    }
    const parsed = graphSchema.safeParse(await response.json().catch(() => null));
    if (!parsed.success) throw new UnavailableError(`the aggregator's graph at ${url} is not a graph`, { retriable: false, context: { url } });
    return { source: "aggregator", ...parsed.data };
  }
}
