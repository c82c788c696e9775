// The page's panels, each drawn whole from the model (app.js) when its part of the model changed.
"use strict";

const STATUS_CLASS = { applied: "ok", "dry-run": "info", stale: "muted", "awaiting-approval": "warn", unsupported: "warn", refused: "bad", failed: "bad" };

function evidenceLine(e) {
  const stat = e.statistic ? ` (${e.statistic})` : "";
  const cmp = e.comparison && e.threshold !== undefined ? ` ${e.comparison} ${fmtNum(e.threshold)}` : e.threshold !== undefined ? `, threshold ${fmtNum(e.threshold)}` : "";
  const p = e.pValue !== undefined ? `, p = ${e.pValue.toPrecision(2)}` : "";
  const note = e.note ? ` — ${e.note}` : "";
  return `${e.metric}${stat} = ${fmtNum(e.value)}${cmp}${p}${note}`;
}

function weightsText(weights) {
  return Object.entries(weights).map(([v, w]) => `${v} ${w}%`).join(" · ");
}

function renderSignals(container, model) {
  clear(container);
  const byTarget = new Map();
  for (const s of model.series.values()) {
    if (!byTarget.has(s.targetKey)) byTarget.set(s.targetKey, []);
    byTarget.get(s.targetKey).push(s);
  }
  if (byTarget.size === 0) {
    container.append(el("p", { class: "muted", text: "No aggregates read yet: the charts fill as windows close." }));
    return;
  }
  const horizon = model.horizonMs ?? Date.now();
  const domain = [horizon - model.retentionMs, horizon];
  const metrics = [
    ["rate", "requests", fmtRate, (p) => p.rate],
    ["error %", "errors", fmtPct, (p) => p.errorPct],
    ["p50", "p50", fmtMs, (p) => p.p50],
    ["p99", "p99", fmtMs, (p) => p.p99],
  ];
  for (const key of [...byTarget.keys()].sort()) {
    const versions = byTarget.get(key).sort((a, b) => a.version.localeCompare(b.version));
    const charts = metrics.map(([title, , format, pick]) => {
      const lines = versions.map((s) => ({ name: s.version, color: versionColor(s.version), points: s.points.map((p) => [p.windowStartMs + p.windowMs, pick(p)]) }));
      const latest = versions.map((s) => [s.version, versionColor(s.version), format(s.points.length ? pick(s.points[s.points.length - 1]) : null)]);
      return el("figure", { class: "metric", "data-metric": title }, el("figcaption", { text: title }), lineChart(`${key} ${title}`, lines, domain, format), legend(latest));
    });
    container.append(el("article", { class: "card signals", "data-target": key }, el("h3", { text: serviceOfKey(key), title: key }), el("div", { class: "metrics" }, charts)));
  }
}

function renderCanaries(container, model) {
  clear(container);
  if (model.canaries.length === 0) {
    container.append(el("p", { class: "muted", text: "No decision has split traffic between versions." }));
    return;
  }
  for (const c of model.canaries) {
    const first = c.points[0];
    const last = c.points[c.points.length - 1];
    const x1 = Math.max(last.windowEndMs, model.horizonMs ?? 0);
    const domain = [first.windowEndMs, x1 > first.windowEndMs ? x1 : first.windowEndMs + 1000];
    const settled = Object.entries(last.weights).find(([, w]) => w === 100);
    const badge = c.inProgress ? el("span", { class: "badge warn", text: "in progress" }) : el("span", { class: "badge", text: settled ? `${settled[0]} at 100%` : "settled" });
    const steps = c.points.slice(-6).reverse().map((p) => el("li", {}, el("b", { text: `${fmtClock(p.windowEndMs)} ${weightsText(p.weights)}` }), ` ${p.reason}`));
    container.append(el("article", { class: "card canary", "data-target": c.targetKey },
      el("h3", {}, serviceOfKey(c.targetKey), " ", badge),
      weightChart(`${c.targetKey} weights`, c.points, domain),
      legend(Object.entries(last.weights).map(([v, w]) => [v, versionColor(v), `${w}%`])),
      el("ol", { class: "steps" }, steps)));
  }
}

function renderPending(container, model, actions) {
  clear(container);
  if (model.pending.length === 0) {
    container.append(el("p", { class: "muted", text: "No decision awaits approval." }));
    return;
  }
  for (const p of model.pending) {
    const reasonInput = el("input", { type: "text", class: "reason", placeholder: "reason (optional)", "aria-label": `reason for ${p.decisionId}` });
    const disabled = !model.control.enabled || p.answer !== null;
    const button = (action, label) => el("button", { type: "button", class: `action ${action}`, "data-action": action, "data-decision-id": p.decisionId, disabled, title: model.control.enabled ? null : "read-only: no token configured", onclick: () => actions.send({ command: action, decisionId: p.decisionId, reason: reasonInput.value }), text: label });
    container.append(el("article", { class: "card proposal", "data-decision-id": p.decisionId },
      el("h3", {}, serviceOfKey(p.targetKey), " ", el("span", { class: "chip", text: p.controllers.join("+") }), " ", el("span", { class: "muted", text: `gen ${p.generation}` })),
      el("p", { class: "reason-text", text: p.reason }),
      p.deniedCallers.length ? el("ul", { class: "denied" }, p.deniedCallers.map((d) => el("li", { text: `deny ${d.identity}${d.leaseExpiresAt ? ` until ${fmtWhen(d.leaseExpiresAt)}` : ""}: ${d.reason}` }))) : null,
      p.evidence.length ? el("ul", { class: "evidence" }, p.evidence.map((e) => el("li", { text: evidenceLine(e) }))) : null,
      p.answer ? el("p", { class: "answer", text: `${p.answer.command} sent by ${p.answer.operator} at ${fmtWhen(p.answer.at)}; waiting for the decision service` }) : null,
      el("div", { class: "buttons" }, reasonInput, button("approve", "Approve"), button("reject", "Reject"))));
  }
}

/** Decisions, pause notices and operators' commands, newest first, filtered by service and controller. */
function timelineItems(model, filters) {
  const items = [];
  for (const entry of model.decisions) items.push({ kind: "decision", at: Date.parse(entry.decision.createdAt), key: entry.targetKey, entry });
  for (const n of model.pauses) items.push({ kind: "pause", at: Date.parse(n.at), key: n.target ? `${n.target.mesh}/${n.target.namespace}/${n.target.service}` : null, notice: n });
  for (const c of model.controls) items.push({ kind: "control", at: Date.parse(c.issuedAt), key: c.target ? `${c.target.mesh}/${c.target.namespace}/${c.target.service}` : null, command: c });
  return items
    .filter((i) => filters.service === "" || i.key === filters.service)
    .filter((i) => filters.controller === "" || (i.kind === "decision" && i.entry.decision.controllers.includes(filters.controller)))
    .sort((a, b) => b.at - a.at);
}

function renderTimeline(container, model, filters) {
  clear(container);
  const items = timelineItems(model, filters);
  if (items.length === 0) {
    container.append(el("li", { class: "muted", text: model.decisions.length ? "Nothing matches the filters." : "No decision read since the console started." }));
    return;
  }
  for (const item of items) {
    if (item.kind === "decision") {
      const d = item.entry.decision;
      const flags = [d.dryRun ? "dry run" : null, d.requiresApproval ? "needs approval" : null, d.approvedBy ? `approved by ${d.approvedBy}` : null].filter(Boolean);
      const results = item.entry.actuations.length
        ? item.entry.actuations.map((a) => el("span", { class: `badge ${STATUS_CLASS[a.status] || ""}`, "data-status": a.status, title: a.reason, text: `${a.mesh}: ${a.status}` }))
        : [el("span", { class: "badge muted", text: "no result yet" })];
      container.append(el("li", { class: "event decision", "data-decision-id": d.decisionId, "data-target": item.key, "data-controllers": d.controllers.join(" ") },
        el("div", { class: "line" },
          el("time", { text: fmtWhen(d.createdAt), title: `window end ${new Date(d.windowEndMs).toISOString()}` }),
          el("span", { class: "target", text: item.key }),
          el("span", { class: "muted", text: `gen ${d.generation}` }),
          d.controllers.map((c) => el("span", { class: "chip", text: c })),
          flags.map((f) => el("span", { class: "badge warn", text: f })),
          el("span", { class: "results" }, results)),
        el("p", { class: "reason-text", text: d.reason }),
        d.desiredState.weights ? el("p", { class: "weights", text: `weights ${weightsText(d.desiredState.weights)}` }) : null,
        d.evidence.length ? el("ul", { class: "evidence" }, d.evidence.map((e) => el("li", { text: evidenceLine(e) }))) : null));
    } else if (item.kind === "pause") {
      const n = item.notice;
      container.append(el("li", { class: `event pause ${n.paused ? "paused" : "resumed"}` },
        el("div", { class: "line" }, el("time", { text: fmtWhen(n.at) }), el("span", { class: "target", text: item.key ?? "all targets" }), el("span", { class: `badge ${n.paused ? "bad" : "ok"}`, text: n.paused ? `paused by ${n.by}` : `resumed by ${n.by}` })),
        el("p", { class: "reason-text", text: n.reason })));
    } else {
      const c = item.command;
      container.append(el("li", { class: "event control" },
        el("div", { class: "line" }, el("time", { text: fmtWhen(c.issuedAt) }), el("span", { class: "target", text: item.key ?? "all targets" }), el("span", { class: "chip operator", text: c.command }), el("span", { class: "muted", text: `by ${c.operator}${c.decisionId ? ` for ${c.decisionId}` : ""}` })),
        c.reason ? el("p", { class: "reason-text", text: c.reason }) : null));
    }
  }
}

/** Keeps a <select>'s choice while its options follow what was seen. */
function fillSelect(select, values, allLabel) {
  const held = [...select.options].slice(1).map((o) => o.value);
  if (held.length === values.length && held.every((v, i) => v === values[i])) return; // an open list stays open
  const chosen = select.value;
  clear(select).append(el("option", { value: "", text: allLabel }), ...values.map((v) => el("option", { value: v, text: v })));
  select.value = values.includes(chosen) ? chosen : "";
}

function renderFreeze(button, label, model) {
  const f = model.freeze;
  button.disabled = !model.control.enabled;
  button.dataset.frozen = String(f.frozen);
  button.textContent = f.frozen ? "Unfreeze" : "Freeze";
  label.className = `freeze-state ${f.frozen ? "bad" : f.frozen === false ? "ok" : "muted"}`;
  label.textContent = f.frozen === null ? "freeze state unknown" : f.frozen ? `FROZEN${f.by ? ` by ${f.by}` : ""}${f.reason ? `: ${f.reason}` : ""}` : "loop running";
}
