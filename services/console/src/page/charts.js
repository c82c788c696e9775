// Small SVG charts: one line per version over the retained event time, and step lines for commanded weights.
"use strict";

const CHART_W = 240;
const CHART_H = 84;
const PAD = { left: 44, right: 6, top: 8, bottom: 14 };

function scale(domain, range) {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

function axes(node, x0, x1, yMax, format) {
  const bottom = CHART_H - PAD.bottom;
  node.append(svg("line", { x1: PAD.left, y1: bottom, x2: CHART_W - PAD.right, y2: bottom, class: "axis" }));
  node.append(svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom, class: "axis" }));
  node.append(svg("text", { x: PAD.left - 3, y: PAD.top + 7, "text-anchor": "end", class: "tick", text: format(yMax) }));
  node.append(svg("text", { x: PAD.left - 3, y: bottom, "text-anchor": "end", class: "tick", text: "0" }));
  node.append(svg("text", { x: PAD.left, y: CHART_H - 2, class: "tick", text: fmtClock(x0) }));
  node.append(svg("text", { x: CHART_W - PAD.right, y: CHART_H - 2, "text-anchor": "end", class: "tick", text: fmtClock(x1) }));
}

/**
 * lines: [{ name, color, points: [[xMs, y|null], ...] }]; a null y breaks the line (a window without requests).
 * Returns an <svg> of a fixed size with the y axis from 0 to the largest value.
 */
function lineChart(title, lines, xDomain, format) {
  const node = svg("svg", { class: "chart", viewBox: `0 0 ${CHART_W} ${CHART_H}`, width: CHART_W, height: CHART_H, role: "img", "aria-label": title });
  const values = lines.flatMap((l) => l.points.map((p) => p[1])).filter((v) => v !== null && Number.isFinite(v));
  const yMax = Math.max(1e-9, ...values) * 1.1;
  const x = scale(xDomain, [PAD.left, CHART_W - PAD.right]);
  const y = scale([0, yMax], [CHART_H - PAD.bottom, PAD.top]);
  axes(node, xDomain[0], xDomain[1], yMax, format);
  for (const line of lines) {
    let d = "";
    let pen = false;
    for (const [px, py] of line.points) {
      if (py === null || !Number.isFinite(py) || px < xDomain[0]) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${x(px).toFixed(1)},${y(py).toFixed(1)} `;
      pen = true;
    }
    if (d !== "") node.append(svg("path", { d, fill: "none", stroke: line.color, "stroke-width": 1.6 }, svg("title", { text: line.name })));
  }
  return node;
}

/** Weights in percent per version as steps: each decision holds until the next one. */
function weightChart(title, points, xDomain) {
  const node = svg("svg", { class: "chart wide", viewBox: `0 0 ${CHART_W * 2} ${CHART_H}`, width: CHART_W * 2, height: CHART_H, role: "img", "aria-label": title });
  const width = CHART_W * 2;
  const x = scale(xDomain, [PAD.left, width - PAD.right]);
  const y = scale([0, 100], [CHART_H - PAD.bottom, PAD.top]);
  const bottom = CHART_H - PAD.bottom;
  node.append(svg("line", { x1: PAD.left, y1: bottom, x2: width - PAD.right, y2: bottom, class: "axis" }));
  node.append(svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom, class: "axis" }));
  node.append(svg("text", { x: PAD.left - 3, y: PAD.top + 7, "text-anchor": "end", class: "tick", text: "100%" }));
  node.append(svg("text", { x: PAD.left - 3, y: bottom, "text-anchor": "end", class: "tick", text: "0" }));
  node.append(svg("text", { x: PAD.left, y: CHART_H - 2, class: "tick", text: fmtClock(xDomain[0]) }));
  node.append(svg("text", { x: width - PAD.right, y: CHART_H - 2, "text-anchor": "end", class: "tick", text: fmtClock(xDomain[1]) }));
  const versions = [...new Set(points.flatMap((p) => Object.keys(p.weights)))].sort();
  for (const version of versions) {
    let d = "";
    points.forEach((p, i) => {
      const w = p.weights[version] ?? 0;
      const x0 = x(Math.max(xDomain[0], p.windowEndMs));
      const x1 = x(i + 1 < points.length ? points[i + 1].windowEndMs : xDomain[1]);
      d += `${i === 0 ? "M" : "L"}${x0.toFixed(1)},${y(w).toFixed(1)} L${x1.toFixed(1)},${y(w).toFixed(1)} `;
    });
    node.append(svg("path", { d, fill: "none", stroke: versionColor(version), "stroke-width": 2 }, svg("title", { text: version })));
  }
  for (const p of points) {
    node.append(svg("circle", { cx: x(Math.max(xDomain[0], p.windowEndMs)).toFixed(1), cy: PAD.top - 3, r: 3, class: /roll/i.test(p.reason) ? "marker bad" : "marker" }, svg("title", { text: `gen ${p.generation}: ${p.reason}` })));
  }
  return node;
}

function legend(items) {
  return el("div", { class: "legend" }, items.map(([name, color, value]) => {
    const swatch = el("i", { class: "swatch" });
    swatch.style.backgroundColor = color; // CSSOM, which the page's Content-Security-Policy allows (style attributes it does not)
    return el("span", { class: "legend-item" }, swatch, `${name} ${value}`);
  }));
}
