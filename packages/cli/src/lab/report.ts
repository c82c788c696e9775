import { mergeSketches, sketchQuantile } from "@meshloop/decision";
import type { LatencySketch, WindowAggregate } from "@meshloop/contracts";
import type { ScenarioRun } from "./run-scenario.ts";

/**
 * A self-contained HTML report of a scenario run: per service in its expectations, charts over time of request rate,
 * error rate, p99 and commanded weights per version, the faults as shaded spans and every decision as a marker whose
 * tooltip is its reason. Inline SVG, no script, no external file: it opens anywhere and can be attached to a ticket.
 */

interface Point {
  readonly t: number;
  readonly v: number;
}

type Series = Map<string, Point[]>;

const W = 760;
const H = 150;
const PAD = 40;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

export function writeReport(run: ScenarioRun): string {
  const { scenario, record } = run;
  const services = [...new Set(scenario.expect.map((e) => e.service))];
  const t0 = record.startedAtMs;
  const t1 = Math.max(t0 + 1000, ...run.aggregates.map((a) => a.windowStartMs + a.windowMs), ...record.decisions.map((d) => d.seenAtMs));
  const sections = services.map((service) => {
    const windows = run.aggregates.filter((a) => a.target.service === service);
    const perVersion = byVersion(windows);
    const decisions = record.decisions.filter((d) => d.decision.target.service === service);
    const weights: Series = new Map();
    for (const d of decisions) {
      for (const [version, w] of Object.entries(d.decision.desiredState.weights ?? {})) push(weights, version, { t: d.decision.windowEndMs, v: w });
    }
    const markers = decisions.map((d) => ({ t: d.decision.windowEndMs, label: `gen ${d.decision.generation} [${d.decision.controllers.join(",")}]: ${d.decision.reason}` }));
    const chart = (title: string, series: Series, unit: string) => svgChart(title, series, unit, t0, t1, markers, record.faults, scenario.faults);
    return `<h2>${esc(service)}</h2>
${chart("requests per second", perVersion.rate, "req/s")}
${chart("error rate", perVersion.errors, "%")}
${chart("p99 latency", perVersion.p99, "ms")}
${chart("commanded weights", weights, "%")}
<ol>${decisions.map((d) => `<li>+${((d.seenAtMs - t0) / 1000).toFixed(1)} s, gen ${d.decision.generation} [${esc(d.decision.controllers.join(", "))}]: ${esc(d.decision.reason)}</li>`).join("")}</ol>`;
  });
  const verdicts = run.verdicts.map((v) => `<li class="${v.state}">${v.state.toUpperCase()} ${esc(v.expectation.kind)} ${esc(v.expectation.service)}: ${esc(v.detail)}</li>`).join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(scenario.name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:820px}li.passed{color:#1a7f37}li.failed,li.pending{color:#cf222e}svg{display:block;margin:8px 0}</style></head>
<body><h1>${esc(scenario.name)}</h1><p>${esc(scenario.description)}</p>
<p>${(run.wallMs / 1000).toFixed(1)} s wall clock; windows of ${scenario.window / 1000} s; ${record.decisions.length} decisions, ${record.actuations.length} actuations.</p>
<ul>${verdicts}</ul>${sections.join("\n")}</body></html>\n`;
}

function byVersion(windows: readonly WindowAggregate[]): { rate: Series; errors: Series; p99: Series } {
  const groups = new Map<string, { t: number; seconds: number; requests: number; errors: number; sketches: LatencySketch[] }>();
  for (const w of windows) {
    for (const s of w.series) {
      const key = `${s.version}@${w.windowStartMs}`;
      const g = groups.get(key) ?? { t: w.windowStartMs + w.windowMs, seconds: w.windowMs / 1000, requests: 0, errors: 0, sketches: [] };
      g.requests += s.counters.requests;
      g.errors += s.counters.errors;
      g.sketches.push(s.counters.latency);
      groups.set(key, g);
    }
  }
  const rate: Series = new Map();
  const errors: Series = new Map();
  const p99: Series = new Map();
  for (const [key, g] of [...groups].sort((a, b) => a[1].t - b[1].t)) {
    const version = key.slice(0, key.lastIndexOf("@"));
    push(rate, version, { t: g.t, v: g.requests / g.seconds });
    if (g.requests > 0) push(errors, version, { t: g.t, v: (100 * g.errors) / g.requests });
    const q = sketchQuantile(mergeSketches(g.sketches), 0.99);
    if (q !== null) push(p99, version, { t: g.t, v: q });
  }
  return { rate, errors, p99 };
}

function push(series: Series, key: string, point: Point): void {
  const list = series.get(key) ?? [];
  list.push(point);
  series.set(key, list);
}

function svgChart(
  title: string,
  series: Series,
  unit: string,
  t0: number,
  t1: number,
  markers: readonly { t: number; label: string }[],
  faults: readonly { name: string; onsetMs: number }[],
  specs: readonly { name: string; for?: number | undefined }[],
): string {
  const all = [...series.values()].flat();
  const max = Math.max(1e-9, ...all.map((p) => p.v)) * 1.1;
  const x = (t: number) => PAD + ((t - t0) / (t1 - t0)) * (W - 2 * PAD);
  const y = (v: number) => H - 20 - (v / max) * (H - 40);
  const shaded = faults.map((f) => {
    const length = specs.find((s) => s.name === f.name)?.for;
    const end = length === undefined ? t1 : f.onsetMs + length;
    return `<rect x="${x(f.onsetMs).toFixed(1)}" y="10" width="${Math.max(1, x(end) - x(f.onsetMs)).toFixed(1)}" height="${H - 30}" fill="#f4a26133"><title>fault ${esc(f.name)}</title></rect>`;
  });
  const lines = [...series].map(([name, points], i) => {
    const color = COLORS[i % COLORS.length]!;
    const d = points.map((p, k) => `${k === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/><text x="${W - PAD + 4}" y="${14 + 14 * i}" fill="${color}">${esc(name)}</text>`;
  });
  const marks = markers.map((m) => `<line x1="${x(m.t).toFixed(1)}" x2="${x(m.t).toFixed(1)}" y1="10" y2="${H - 20}" stroke="#555" stroke-dasharray="3,3"><title>${esc(m.label)}</title></line>`);
  return `<svg width="${W + 60}" height="${H}" role="img" aria-label="${esc(title)}"><text x="${PAD}" y="10">${esc(title)} (${esc(unit)}, max ${max.toFixed(1)})</text>
<line x1="${PAD}" x2="${W - PAD}" y1="${H - 20}" y2="${H - 20}" stroke="#999"/>${shaded.join("")}${lines.join("")}${marks.join("")}
<text x="${PAD}" y="${H - 4}">0 s</text><text x="${W - PAD - 30}" y="${H - 4}">${((t1 - t0) / 1000).toFixed(0)} s</text></svg>`;
}

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
