/** Numbers as reasons print them: short, rounded for people, never "NaN". */

export function pct(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  const p = ratio * 100;
  const text = p >= 10 ? p.toFixed(1) : p >= 1 ? p.toFixed(2) : p.toPrecision(2);
  return `${text.includes(".") ? text.replace(/\.?0+$/, "") : text}%`;
}

export function ms(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "n/a";
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toPrecision(3).replace(/\.?0+$/, "")} ms`;
}

export function duration(valueMs: number): string {
  if (valueMs % 3_600_000 === 0 && valueMs > 0) return `${valueMs / 3_600_000} h`;
  if (valueMs % 60_000 === 0 && valueMs > 0) return `${valueMs / 60_000} min`;
  return valueMs % 1000 === 0 ? `${valueMs / 1000} s` : `${valueMs} ms`;
}

/** Whole numbers with thousands separators (by hand: toLocaleString is slow in a hot path). */
export function count(value: number): string {
  const digits = String(Math.abs(Math.round(value)));
  let out = "";
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ",";
    out += digits[i];
  }
  return value < 0 && out !== "0" ? `-${out}` : out;
}

/** A statistic for a sentence: 3 significant digits, large values without exponent noise. */
export function stat(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "n/a";
  if (Math.abs(value) >= 1e6) return value.toExponential(1);
  return Math.abs(value) >= 100 ? String(Math.round(value)) : value.toPrecision(3).replace(/\.?0+$/, "");
}

export function quantileName(q: number): string {
  return `p${String(Math.round(q * 1000) / 10).replace(/^0\./, ".")}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
