import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { GraphSource } from "../../src/http/graph-source.ts";
import type { GraphView } from "../../src/state/signals.ts";

const aggregatorGraph = {
  asOfMs: 1_000,
  rateWindowMs: 60_000,
  nodes: [{ service: "checkout", namespace: "lab", virtual: false }, { service: "fraud-api", namespace: null, virtual: true }],
  edges: [{ caller: { service: "checkout", namespace: "lab" }, callee: { service: "fraud-api", namespace: null, virtual: true }, connectionType: "virtual_node", firstSeenMs: 0, lastSeenMs: 1_000, rate: 2, errorRate: 0.5, requestsTotal: 120, errorsTotal: 60 }],
};
const local: GraphView = { source: "aggregates", asOfMs: 5, rateWindowMs: 60_000, nodes: [{ service: "local", namespace: null, virtual: false }], edges: [] };
let requests = 0;
let answer: { status: number; body: unknown } = { status: 200, body: aggregatorGraph };
const server = createServer((req, res) => {
  requests++;
  res.writeHead(req.url === "/graph" ? answer.status : 404, { "content-type": "application/json" });
  res.end(JSON.stringify(answer.body));
});
let url = "";

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("without an aggregator URL the graph is the local one", async () => {
  assert.deepEqual(await new GraphSource({ local: () => local }).graph(), local);
});

test("the aggregator's /graph is proxied in its shape, and one answer serves the pages for a moment", async () => {
  requests = 0;
  const source = new GraphSource({ aggregatorUrl: `${url}/`, local: () => local, cacheMs: 60_000 });
  const graph = await source.graph();
  assert.equal(graph.source, "aggregator");
  assert.deepEqual(graph.nodes, aggregatorGraph.nodes);
  assert.equal(graph.edges[0]!.errorRate, 0.5);
  assert.equal((graph.edges[0] as unknown as Record<string, unknown>).firstSeenMs, undefined, "fields the console does not use are dropped");
  await source.graph();
  assert.equal(requests, 1);
});

test("an aggregator that fails or answers nonsense gives the local graph with the reason", async () => {
  answer = { status: 503, body: { error: "down" } };
  const failed = await new GraphSource({ aggregatorUrl: url, local: () => local, cacheMs: 0 }).graph();
  assert.equal(failed.source, "aggregates");
  assert.match(failed.error ?? "", /answered 503/);
  answer = { status: 200, body: { nodes: "many" } };
  assert.match((await new GraphSource({ aggregatorUrl: url, local: () => local, cacheMs: 0 }).graph()).error ?? "", /is not a graph/);
  const unreachable = await new GraphSource({ aggregatorUrl: "http://127.0.0.1:1", local: () => local, cacheMs: 0 }).graph();
  assert.match(unreachable.error ?? "", /did not answer/);
  assert.deepEqual(unreachable.nodes, local.nodes);
});
