// infra/grafana/meshloop-dashboard.json cannot be loaded into a Grafana here; what can be checked without one is: its
// shape (panels with titles, unique ids, targets, the datasource variable, no hard-coded datasource) and that every
// metric its PromQL names is one the services declare in their sources, used as its kind allows.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const dashboardFile = join(root, "infra/grafana/meshloop-dashboard.json");

type Kind = "counter" | "gauge" | "histogram";

interface Target {
  refId?: string;
  expr?: string;
  datasource?: unknown;
}

interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: unknown;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  schemaVersion?: number;
  description?: string;
  templating?: { list?: Array<{ name?: string; type?: string; query?: string }> };
  panels?: Panel[];
}

// Every TypeScript file under packages/*/src and services/*/src: the code that runs, not its tests or benchmarks.
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "node_modules") walk(path);
      else if (entry.isFile() && entry.name.endsWith(".ts")) files.push(path);
    }
  };
  for (const top of ["packages", "services"]) {
    for (const pkg of readdirSync(join(root, top), { withFileTypes: true })) {
      if (!pkg.isDirectory()) continue;
      const src = join(root, top, pkg.name, "src");
      if (existsSync(src)) walk(src);
    }
  }
  return files;
}

/** The metrics the services declare (`metrics.counter({ name: "..." })` and the like), by name, with their kind. */
function declaredMetrics(): Map<string, Kind> {
  const declared = new Map<string, Kind>();
  const plainNames = new Set<string>();
  for (const file of sourceFiles()) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/metrics\.(counter|gauge|histogram)(?:<[^>]*>)?\(\{\s*name:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"/g)) {
      declared.set(m[2]!, m[1] as Kind);
    }
    for (const m of text.matchAll(/name: "(meshloop_[a-z0-9_]+)"/g)) plainNames.add(m[1]!);
  }
  // The kind-aware scan must see every `name: "meshloop_..."` declaration; one it misses means a new declaration style.
  for (const name of plainNames) assert.ok(declared.has(name), `${name} is declared in a way the scan does not recognise`);
  return declared;
}

function allPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

const METRIC = /\b(?:meshloop|traces)_[a-z0-9_]+/g;
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** Every problem with the dashboard against the declared metrics; none when it is right. */
function problemsOf(dashboard: Dashboard, declared: ReadonlyMap<string, Kind>): string[] {
  const problems: string[] = [];
  if (dashboard.schemaVersion !== 39) problems.push(`schemaVersion is ${dashboard.schemaVersion}, not 39`);
  const variable = dashboard.templating?.list?.find((v) => v.name === "datasource");
  if (variable?.type !== "datasource" || variable.query !== "prometheus") problems.push("no `datasource` variable of type datasource over prometheus");
  const ids = new Set<number>();
  const cells: Array<{ title: string; x: number; y: number; w: number; h: number }> = [];
  for (const panel of allPanels(dashboard)) {
    const title = panel.title ?? "";
    if (title.trim() === "") problems.push(`panel ${panel.id}: no title`);
    if (typeof panel.id !== "number") problems.push(`${title}: no numeric id`);
    else if (ids.has(panel.id)) problems.push(`${title}: id ${panel.id} is used twice`);
    else ids.add(panel.id);
    const g = panel.gridPos;
    if (g === undefined || g.w < 1 || g.x < 0 || g.x + g.w > 24 || g.h < 1) problems.push(`${title}: no gridPos inside the 24 columns`);
    else cells.push({ title, ...g });
    if (panel.type === "row") continue;
    if (!isDatasourceVariable(panel.datasource)) problems.push(`${title}: datasource is not \${datasource}`);
    const targets = panel.targets ?? [];
    if (targets.length === 0) problems.push(`${title}: no targets`);
    if (new Set(targets.map((t) => t.refId)).size !== targets.length) problems.push(`${title}: refIds are not unique`);
    for (const target of targets) {
      const expr = target.expr ?? "";
      if (expr.trim() === "") problems.push(`${title} ${target.refId}: no expr`);
      if (target.datasource !== undefined && !isDatasourceVariable(target.datasource)) problems.push(`${title} ${target.refId}: datasource is not \${datasource}`);
      problems.push(...metricProblems(`${title} ${target.refId}`, expr, declared));
    }
  }
  for (const [i, a] of cells.entries()) {
    for (const b of cells.slice(i + 1)) {
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) problems.push(`${a.title} and ${b.title} overlap`);
    }
  }
  return problems;
}

function isDatasourceVariable(value: unknown): boolean {
  const ds = value as { type?: string; uid?: string } | undefined;
  return ds?.type === "prometheus" && ds.uid === "${datasource}";
}

function metricProblems(where: string, expr: string, declared: ReadonlyMap<string, Kind>): string[] {
  const problems: string[] = [];
  for (const m of expr.matchAll(METRIC)) {
    const used = m[0];
    const before = expr.slice(0, m.index);
    const suffix = HISTOGRAM_SERIES.exec(used);
    const base = suffix === null ? used : used.slice(0, -suffix[0].length);
    if (suffix !== null && declared.get(base) === "histogram") {
      if (suffix[1] === "bucket" && !expr.includes("histogram_quantile(")) problems.push(`${where}: ${used} outside histogram_quantile`);
      continue;
    }
    const kind = declared.get(used);
    if (kind === undefined) problems.push(`${where}: ${used} is not declared in packages/*/src or services/*/src`);
    else if (kind === "histogram") problems.push(`${where}: ${used} is a histogram; use its _bucket, _sum or _count series`);
    else if (kind === "counter" && !/(?:rate|increase)\(\s*$/.test(before)) problems.push(`${where}: counter ${used} not inside rate() or increase()`);
  }
  return problems;
}

function metricsUsed(dashboard: Dashboard): Set<string> {
  const used = new Set<string>();
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) for (const m of (target.expr ?? "").matchAll(METRIC)) used.add(m[0].replace(HISTOGRAM_SERIES, ""));
  }
  return used;
}

const declared = declaredMetrics();
const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8")) as Dashboard;

test("the scan finds the services' metrics (ingest, aggregator, decision, actuators, and the RED series)", () => {
  assert.equal(declared.get("meshloop_ingest_spans_total"), "counter");
  assert.equal(declared.get("meshloop_ingest_inflight_bytes"), "gauge");
  assert.equal(declared.get("meshloop_decision_latency_seconds"), "histogram");
  assert.equal(declared.get("meshloop_actuator_results_total"), "counter");
  assert.equal(declared.get("traces_span_metrics_calls_total"), "counter");
  // Declared only in tests: not a metric any service exports.
  assert.equal(declared.has("meshloop_lag_records"), false);
});

test("every panel has a title, a unique id and a place; every query panel has targets on the ${datasource} variable", () => {
  const panels = allPanels(dashboard);
  assert.ok(panels.filter((p) => p.type !== "row").length >= 30, `${panels.length} panels`);
  assert.deepEqual(problemsOf(dashboard, declared), []);
  assert.doesNotMatch(JSON.stringify(dashboard), /"uid":\s*"(?!\$\{datasource\}|meshloop-loop")/, "a hard-coded uid");
});

test("every metric in the PromQL is declared in the sources, used as its kind allows", () => {
  const used = metricsUsed(dashboard);
  for (const name of used) assert.ok(declared.has(name), `${name} is used but not declared`);
});

// The loop's services and the RED series; other components (an operator console) are not the loop's health.
const LOOP_METRIC = /^(?:meshloop_(?:ingest|aggregator|decision|actuator)_|traces_)/;

test("every metric the loop's services declare is on the dashboard", () => {
  const used = metricsUsed(dashboard);
  const missing = [...declared.keys()].filter((name) => LOOP_METRIC.test(name) && !used.has(name));
  assert.deepEqual(missing, []);
});

test("what is not exported is said in the description: consumer lag, window completeness, latency of the golden signals", () => {
  const description = dashboard.description ?? "";
  if (![...declared.keys()].some((name) => name.includes("lag"))) assert.match(description, /consumer lag/);
  if (![...declared.keys()].some((name) => /complete|late/.test(name))) assert.match(description, /completeness and late spans/);
  if (![...declared.keys()].some((name) => name.startsWith("traces_") && declared.get(name) === "histogram")) assert.match(description, /latency and saturation/);
});

test("the checks catch a wrong dashboard (they are not a formality)", () => {
  const broken: Dashboard = {
    schemaVersion: 38,
    templating: { list: [] },
    panels: [
      { id: 1, type: "row", title: "r", gridPos: { h: 1, w: 24, x: 0, y: 0 } },
      {
        id: 2,
        type: "timeseries",
        title: "made up",
        datasource: { type: "prometheus", uid: "P1809F7CD0C75ACF3" },
        gridPos: { h: 8, w: 12, x: 0, y: 1 },
        targets: [
          { refId: "A", expr: "rate(meshloop_made_up_total[5m])" },
          { refId: "B", expr: "sum(meshloop_decision_decisions_total)" },
          { refId: "C", expr: "meshloop_decision_latency_seconds" },
        ],
      },
      { id: 2, type: "stat", title: "", gridPos: { h: 8, w: 12, x: 6, y: 1 }, targets: [] },
    ],
  };
  const problems = problemsOf(broken, declared);
  const expected = [
    "schemaVersion is 38, not 39",
    "no `datasource` variable of type datasource over prometheus",
    "made up: datasource is not ${datasource}",
    "made up A: meshloop_made_up_total is not declared in packages/*/src or services/*/src",
    "made up B: counter meshloop_decision_decisions_total not inside rate() or increase()",
    "made up C: meshloop_decision_latency_seconds is a histogram; use its _bucket, _sum or _count series",
    "panel 2: no title",
    ": id 2 is used twice",
    ": no targets",
    "made up and  overlap",
  ];
  for (const problem of expected) assert.ok(problems.includes(problem), `${problem} in ${JSON.stringify(problems)}`);
});
