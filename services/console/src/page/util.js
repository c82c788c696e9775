// Shared helpers of the console page. Everything from the loop is put into the page as text (textContent and
// attributes), never as markup, so a reason or a service name cannot inject anything.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function fmtNum(value, digits) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const d = digits === undefined ? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2) : digits;
  return value.toFixed(d);
}

function fmtRate(value) {
  return `${fmtNum(value)}/s`;
}

function fmtPct(value) {
  return value === null || value === undefined ? "–" : `${fmtNum(value)}%`;
}

function fmtMs(value) {
  if (value === null || value === undefined) return "–";
  return value >= 1000 ? `${fmtNum(value / 1000)} s` : `${fmtNum(value)} ms`;
}

function fmtClock(ms) {
  if (ms === null || ms === undefined) return "–";
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour12: false });
}

function fmtWhen(iso) {
  return iso ? fmtClock(Date.parse(iso)) : "–";
}

/** Green under 1 %, amber to 5 %, red above; grey without traffic. Error rates here are ratios (0..1). */
function errorColor(ratio) {
  if (ratio === null || ratio === undefined) return "#8a94a6";
  if (ratio < 0.01) return "#2e9e5b";
  if (ratio < 0.05) return "#d99a1e";
  return "#d64545";
}

const PALETTE = ["#3b82f6", "#e4572e", "#17a398", "#a45ee5", "#f3a712", "#6c757d", "#db3a8a", "#2ec4b6"];
const versionColors = new Map();

/** One colour per version name across all charts, so v2 is the same colour everywhere. */
function versionColor(version) {
  if (!versionColors.has(version)) versionColors.set(version, PALETTE[versionColors.size % PALETTE.length]);
  return versionColors.get(version);
}

function serviceOfKey(key) {
  return key.split("/").slice(1).join("/");
}
