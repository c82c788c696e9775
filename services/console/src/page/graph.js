// The dependency graph: a layered drawing (callers left of callees), nodes and edges coloured by error rate.
"use strict";

const NODE_W = 150;
const NODE_H = 44;
const COL_GAP = 130;
const ROW_GAP = 26;

function nodeId(node) {
  return `${node.namespace || ""}/${node.service}${node.virtual ? "(virtual)" : ""}`;
}

/** Rank = longest path from a node without callers; cycles are cut by capping the rank at the node count. */
function layerNodes(nodes, edges) {
  const ids = nodes.map(nodeId);
  const rank = new Map(ids.map((id) => [id, 0]));
  const links = edges.map((e) => [nodeId({ ...e.caller, virtual: false }), nodeId(e.callee)]).filter(([a, b]) => a !== b && rank.has(a) && rank.has(b));
  for (let pass = 0; pass < ids.length; pass++) {
    let moved = false;
    for (const [a, b] of links) {
      if (rank.get(b) < rank.get(a) + 1 && rank.get(a) + 1 < ids.length) {
        rank.set(b, rank.get(a) + 1);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const columns = [];
  nodes.forEach((node, i) => {
    const r = rank.get(ids[i]);
    (columns[r] = columns[r] || []).push(node);
  });
  return columns.filter(Boolean).map((column) => column.sort((a, b) => a.service.localeCompare(b.service)));
}

/**
 * Draws `graph` (the aggregator's /graph shape) into the <svg> `target`. `serviceErrors` maps a service name to its
 * latest error ratio from the signals, which colours a node; without one, the worst inbound edge does.
 */
function renderGraph(target, graph, serviceErrors) {
  clear(target);
  const nodes = graph && Array.isArray(graph.nodes) ? graph.nodes : [];
  const edges = graph && Array.isArray(graph.edges) ? graph.edges : [];
  if (nodes.length === 0) {
    target.setAttribute("viewBox", "0 0 400 60");
    target.append(svg("text", { x: 200, y: 34, "text-anchor": "middle", class: "muted", text: "No traffic seen yet." }));
    return;
  }
  const columns = layerNodes(nodes, edges);
  const tallest = Math.max(...columns.map((c) => c.length));
  const height = tallest * (NODE_H + ROW_GAP) + ROW_GAP;
  const width = columns.length * (NODE_W + COL_GAP) - COL_GAP + 40;
  const at = new Map();
  columns.forEach((column, c) => {
    const top = (height - column.length * (NODE_H + ROW_GAP) + ROW_GAP) / 2;
    column.forEach((node, r) => at.set(nodeId(node), { x: 20 + c * (NODE_W + COL_GAP), y: top + r * (NODE_H + ROW_GAP) }));
  });
  target.setAttribute("viewBox", `0 0 ${width} ${height}`);
  target.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerUnits: "userSpaceOnUse", markerWidth: 9, markerHeight: 9, orient: "auto-start-reverse" }, svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a94a6" }))));

  const inboundWorst = new Map();
  for (const e of edges) {
    const id = nodeId(e.callee);
    if (e.errorRate !== null && (inboundWorst.get(id) ?? -1) < e.errorRate) inboundWorst.set(id, e.errorRate);
  }
  const maxRate = Math.max(1, ...edges.map((e) => e.rate || 0));
  for (const e of edges) {
    const from = at.get(nodeId({ ...e.caller, virtual: false }));
    const to = at.get(nodeId(e.callee));
    if (!from || !to) continue;
    const x1 = from.x + NODE_W;
    const y1 = from.y + NODE_H / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_H / 2;
    const back = x2 <= x1;
    const d = back
      ? `M ${from.x + NODE_W / 2} ${from.y + NODE_H} C ${from.x + NODE_W / 2} ${from.y + NODE_H + 40}, ${to.x + NODE_W / 2} ${to.y + NODE_H + 40}, ${to.x + NODE_W / 2} ${to.y + NODE_H}`
      : `M ${x1} ${y1} C ${x1 + COL_GAP / 2} ${y1}, ${x2 - COL_GAP / 2} ${y2}, ${x2} ${y2}`;
    const color = errorColor(e.errorRate);
    const widthPx = 1.5 + 4 * Math.log1p(e.rate || 0) / Math.log1p(maxRate);
    const label = `${fmtRate(e.rate)} · ${e.errorRate === null ? "–" : fmtPct(100 * e.errorRate)}`;
    target.append(svg("g", { class: "edge", "data-caller": e.caller.service, "data-callee": e.callee.service },
      svg("title", { text: `${e.caller.service} → ${e.callee.service} (${e.connectionType}): ${label}` }),
      svg("path", { d, fill: "none", stroke: color, "stroke-width": widthPx.toFixed(1), "marker-end": "url(#arrow)", opacity: 0.85 }),
      svg("text", { x: back ? (from.x + to.x + NODE_W) / 2 : (x1 + x2) / 2, y: back ? Math.max(from.y, to.y) + NODE_H + 34 : (y1 + y2) / 2 - 6, "text-anchor": "middle", class: "edge-label", text: label })));
  }
  for (const column of columns) {
    for (const node of column) {
      const p = at.get(nodeId(node));
      const ratio = !node.virtual && serviceErrors.has(node.service) ? serviceErrors.get(node.service) : inboundWorst.get(nodeId(node)) ?? null;
      target.append(svg("g", { class: "node", "data-service": node.service, transform: `translate(${p.x},${p.y})` },
        svg("title", { text: `${node.service}${node.namespace ? ` (${node.namespace})` : ""}${node.virtual ? ", uninstrumented" : ""}: errors ${ratio === null ? "–" : fmtPct(100 * ratio)}` }),
        svg("rect", { width: NODE_W, height: NODE_H, rx: 8, fill: "#ffffff", stroke: errorColor(ratio), "stroke-width": 3, "stroke-dasharray": node.virtual ? "5 4" : null }),
        svg("text", { x: NODE_W / 2, y: 18, "text-anchor": "middle", class: "node-name", text: node.service }),
        svg("text", { x: NODE_W / 2, y: 34, "text-anchor": "middle", class: "node-sub", fill: errorColor(ratio), text: ratio === null ? (node.virtual ? "uninstrumented" : "no traffic") : `errors ${fmtPct(100 * ratio)}` })));
    }
  }
}
