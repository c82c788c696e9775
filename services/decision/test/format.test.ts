import assert from "node:assert/strict";
import { test } from "node:test";
import { count, iso, ms, pct, quantileName, stat } from "../src/format.ts";
import { rng } from "./support/aggregates.ts";

// The formatting as first written (regular expressions, toLocaleString-free loop, no memory): the hot-path versions
// must print exactly the same text, since reasons and evidence notes are published and compared in replays.
const reference = {
  pct(ratio: number): string {
    if (!Number.isFinite(ratio)) return "n/a";
    const p = ratio * 100;
    const text = p >= 10 ? p.toFixed(1) : p >= 1 ? p.toFixed(2) : p.toPrecision(2);
    return `${text.includes(".") ? text.replace(/\.?0+$/, "") : text}%`;
  },
  ms(value: number | null): string {
    if (value === null || !Number.isFinite(value)) return "n/a";
    return value >= 100 ? `${Math.round(value)} ms` : `${value.toPrecision(3).replace(/\.?0+$/, "")} ms`;
  },
  count(value: number): string {
    const digits = String(Math.abs(Math.round(value)));
    let out = "";
    for (let i = 0; i < digits.length; i++) {
      if (i > 0 && (digits.length - i) % 3 === 0) out += ",";
      out += digits[i];
    }
    return value < 0 && out !== "0" ? `-${out}` : out;
  },
  stat(value: number): string {
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "n/a";
    if (Math.abs(value) >= 1e6) return value.toExponential(1);
    return Math.abs(value) >= 100 ? String(Math.round(value)) : value.toPrecision(3).replace(/\.?0+$/, "");
  },
  quantileName(q: number): string {
    return `p${String(Math.round(q * 1000) / 10).replace(/^0\./, ".")}`;
  },
};

function values(): number[] {
  const random = rng(17);
  const special = [0, -0, 1, -1, 0.5, 10, 99.95, 99.999, 100, 999, 1000, 1001, 999_999, 1e6, 1e21, 1e-7, 1e-10, 1.5e-10, 0.001, 0.1, 0.25, 0.9, 0.99, 0.999, 1.234567, NaN, Infinity, -Infinity, -1234.5, -0.4];
  const drawn = Array.from({ length: 20_000 }, () => {
    const magnitude = 10 ** (Math.floor(random() * 24) - 12);
    const value = random() * magnitude;
    return random() < 0.1 ? -value : random() < 0.1 ? Math.round(value) : value;
  });
  return [...special, ...drawn];
}

test("hot-path formatting prints exactly what the regular-expression versions printed", () => {
  let checked = 0;
  for (const value of values()) {
    assert.equal(pct(value), reference.pct(value), `pct(${value})`);
    assert.equal(ms(value), reference.ms(value), `ms(${value})`);
    assert.equal(count(value), reference.count(value), `count(${value})`);
    assert.equal(stat(value), reference.stat(value), `stat(${value})`);
    checked++;
  }
  assert.equal(ms(null), "n/a");
  assert.ok(checked > 20_000);
});

test("quantile names and instants are the same when remembered", () => {
  for (const q of [0.5, 0.9, 0.95, 0.99, 0.999, 0.05, 1, 0, 0.5, 0.99]) assert.equal(quantileName(q), reference.quantileName(q));
  for (let i = 0; i < 3_000; i++) {
    // More distinct instants than are remembered, and each asked twice.
    const at = 1_746_057_600_000 + (i % 1_500) * 10_000;
    assert.equal(iso(at), new Date(at).toISOString());
  }
  assert.throws(() => iso(Number.NaN), RangeError);
});
