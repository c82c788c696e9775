// The page's model and its feeds: the event stream (a snapshot on every connection, then changes), the graph polled
// every few seconds, and operators' commands posted with the token kept in sessionStorage.
"use strict";

const TOKEN_KEY = "meshloop-console-token";
const HISTORY = 500;
const GRAPH_POLL_MS = 5000;
const RECONNECT_MS = 2000;

const model = {
  decisions: [],
  byId: new Map(),
  early: new Map(),
  pauses: [],
  controls: [],
  pending: [],
  canaries: [],
  series: new Map(),
  graph: null,
  freeze: { frozen: null, by: null, reason: null, at: null, source: "unknown" },
  control: { enabled: false, auth: [] },
  horizonMs: null,
  retentionMs: 600000,
};
const dirty = new Set();
let frame = 0;

const $ = (id) => document.getElementById(id);
const filters = () => ({ service: $("filter-service").value, controller: $("filter-controller").value });

function invalidate(...parts) {
  for (const p of parts) dirty.add(p);
  if (frame === 0) frame = requestAnimationFrame(render);
}

/** Each service's error ratio over the last minute of event time, all versions: what colours its node (the edges'
 *  figures cover the same minute). */
function serviceErrors() {
  const from = (model.horizonMs ?? 0) - 60000;
  const sums = new Map();
  for (const s of model.series.values()) {
    const sum = sums.get(s.service) || { requests: 0, errors: 0 };
    for (const p of s.points) {
      if (p.windowStartMs < from) continue;
      sum.requests += p.requests;
      sum.errors += p.errors;
    }
    sums.set(s.service, sum);
  }
  return new Map([...sums].filter(([, v]) => v.requests > 0).map(([k, v]) => [k, v.errors / v.requests]));
}

function render() {
  frame = 0;
  if (dirty.has("graph") || dirty.has("signals")) renderGraph($("graph"), model.graph, serviceErrors());
  if (dirty.has("signals")) renderSignals($("signals"), model);
  if (dirty.has("canaries") || dirty.has("signals")) renderCanaries($("canaries"), model);
  if (dirty.has("pending") || dirty.has("control")) renderPending($("pending"), model, { send: sendControl });
  if (dirty.has("timeline")) {
    fillSelect($("filter-service"), [...new Set(model.decisions.map((e) => e.targetKey))].sort(), "all services");
    fillSelect($("filter-controller"), [...new Set(model.decisions.flatMap((e) => e.decision.controllers))].sort(), "all controllers");
    renderTimeline($("timeline"), model, filters());
    $("history-note").textContent = `${model.decisions.length} decision(s) held (the last ${HISTORY}, since the console started)`;
  }
  if (dirty.has("freeze") || dirty.has("control")) renderFreeze($("freeze-toggle"), $("freeze-state"), model);
  if (dirty.has("control")) {
    $("token-box").hidden = !model.control.auth.includes("token");
    $("readonly-note").hidden = model.control.enabled;
  }
  $("horizon").textContent = model.horizonMs === null ? "no window yet" : `event time ${fmtClock(model.horizonMs)}`;
  dirty.clear();
}

function addDecision(entry) {
  if (model.byId.has(entry.decision.decisionId)) return;
  entry.actuations = [...entry.actuations, ...(model.early.get(entry.decision.decisionId) || [])];
  model.early.delete(entry.decision.decisionId);
  model.decisions.push(entry);
  model.byId.set(entry.decision.decisionId, entry);
  while (model.decisions.length > HISTORY) model.byId.delete(model.decisions.shift().decision.decisionId);
}

function addActuation({ decisionId, actuation }) {
  const entry = model.byId.get(decisionId);
  const list = entry ? entry.actuations : model.early.get(decisionId) || [];
  const next = [...list.filter((a) => a.mesh !== actuation.mesh), actuation];
  if (entry) entry.actuations = next;
  else if (model.early.size < HISTORY) model.early.set(decisionId, next);
}

function upsertPoint({ key, targetKey, service, version, point }) {
  const s = model.series.get(key) || { key, targetKey, service, version, points: [] };
  model.series.set(key, s);
  const i = s.points.findIndex((p) => p.windowStartMs === point.windowStartMs);
  if (i >= 0) s.points[i] = point;
  else {
    s.points.push(point);
    s.points.sort((a, b) => a.windowStartMs - b.windowStartMs);
  }
}

function pruneSeries() {
  if (model.horizonMs === null) return;
  const from = model.horizonMs - model.retentionMs;
  for (const [key, s] of model.series) {
    s.points = s.points.filter((p) => p.windowStartMs + p.windowMs >= from);
    if (s.points.length === 0) model.series.delete(key);
  }
}

const handlers = {
  snapshot(data) {
    model.decisions = [];
    model.byId = new Map();
    model.early = new Map();
    for (const entry of data.decisions) addDecision(entry);
    model.pauses = data.pauses;
    model.controls = data.controls;
    model.pending = data.pending;
    model.canaries = data.canaries;
    model.freeze = data.freeze;
    model.control = data.control;
    model.horizonMs = data.horizonMs;
    model.retentionMs = data.retentionMs;
    model.series = new Map(data.series.map((s) => [s.key, { ...s, points: [...s.points] }]));
    model.graph = data.graph;
    invalidate("graph", "signals", "canaries", "pending", "timeline", "freeze", "control");
  },
  decision(entry) { addDecision(entry); invalidate("timeline"); },
  actuation(data) { addActuation(data); invalidate("timeline"); },
  pause(notice) { model.pauses = [...model.pauses, notice].slice(-100); invalidate("timeline"); },
  control(command) {
    if (!model.controls.some((c) => c.commandId === command.commandId)) model.controls = [...model.controls, command].slice(-200);
    invalidate("timeline");
  },
  derived(data) {
    model.pending = data.pending;
    model.canaries = data.canaries;
    model.freeze = data.freeze;
    invalidate("pending", "canaries", "freeze");
  },
  aggregate(data) {
    for (const u of data.updates) upsertPoint(u);
    model.horizonMs = data.horizonMs;
    pruneSeries();
    invalidate("signals");
  },
};

function setConnection(live, text) {
  const badge = $("connection");
  badge.className = `badge ${live ? "ok" : "bad"}`;
  badge.textContent = text;
}

/** EventSource retries by itself after a dropped stream, but gives up on an error answer (a proxy's 502 during a
 *  restart): then a new one is opened, so the page follows the console through restarts on its own. */
function connect() {
  const source = new EventSource("api/events");
  for (const [name, handle] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => {
      try { handle(JSON.parse(event.data)); } catch (error) { console.error(`bad ${name} event`, error); }
    });
  }
  source.onopen = () => setConnection(true, "live");
  source.onerror = () => {
    setConnection(false, "reconnecting…");
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      setTimeout(connect, RECONNECT_MS);
    }
  };
}

async function pollGraph() {
  try {
    const response = await fetch("api/graph", { headers: { accept: "application/json" } });
    if (response.ok) {
      model.graph = await response.json();
      $("graph-source").textContent = model.graph.source === "aggregator" ? "from the aggregator" : model.graph.error ? `from aggregates (${model.graph.error})` : "from aggregates";
      invalidate("graph");
    }
  } catch (error) {
    console.warn("graph poll failed", error);
  } finally {
    setTimeout(pollGraph, GRAPH_POLL_MS);
  }
}

function say(text, ok) {
  const status = $("status");
  status.className = ok ? "status ok" : "status bad";
  status.textContent = text;
}

async function sendControl(body) {
  const payload = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== ""));
  const headers = { "content-type": "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const response = await fetch("api/control", { method: "POST", headers, body: JSON.stringify(payload) });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 202) say(`${answer.command} sent by ${answer.operator} (command ${answer.commandId})`, true);
    else say(`${payload.command} refused (${response.status}): ${answer.error || response.statusText}`, false);
  } catch (error) {
    say(`${payload.command} not sent: ${error.message}`, false);
  }
}

function setup() {
  const input = $("token");
  input.value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("token-save").addEventListener("click", () => {
    if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    else sessionStorage.removeItem(TOKEN_KEY);
    say(input.value.trim() ? "token kept for this tab" : "token forgotten", true);
  });
  $("freeze-toggle").addEventListener("click", () => {
    const command = model.freeze.frozen ? "unfreeze" : "freeze";
    void sendControl({ command, reason: $("freeze-reason").value });
  });
  $("filter-service").addEventListener("change", () => invalidate("timeline"));
  $("filter-controller").addEventListener("change", () => invalidate("timeline"));
  connect();
  setTimeout(pollGraph, GRAPH_POLL_MS);
}

setup();
