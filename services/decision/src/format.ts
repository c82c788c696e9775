/**
 * Numbers as reasons print them: short, rounded for people, never "NaN". Reasons and evidence notes are written for
 * every controller on every window, so these run in the evaluation's hot path: no regular expressions, and the two
 * that see the same inputs across targets (window times, configured quantiles) remember recent results.
 */

export function pct(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  const p = ratio * 100;
  const text = p >= 10 ? p.toFixed(1) : p >= 1 ? p.toFixed(2) : p.toPrecision(2);
  return `${text.includes(".") ? trimZeros(text) : text}%`;
}

export function ms(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "n/a";
  return value >= 100 ? `${Math.round(value)} ms` : `${trimZeros(value.toPrecision(3))} ms`;
}

export function duration(valueMs: number): string {
  if (valueMs % 3_600_000 === 0 && valueMs > 0) return `${valueMs / 3_600_000} h`;
  if (valueMs % 60_000 === 0 && valueMs > 0) return `${valueMs / 60_000} min`;
  return valueMs % 1000 === 0 ? `${valueMs / 1000} s` : `${valueMs} ms`;
}

/** Whole numbers with thousands separators (by hand: toLocaleString is slow in a hot path). */
export function count(value: number): string {
  const digits = String(Math.abs(Math.round(value)));
  let out = digits;
  if (digits.length > 3) {
    // A comma before every group of three counted from the right, as many as fit.
    const head = digits.length % 3 || 3;
    out = digits.slice(0, head);
    for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  }
  return value < 0 && out !== "0" ? `-${out}` : out;
}

/** A statistic for a sentence: 3 significant digits, large values without exponent noise. */
export function stat(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "n/a";
  if (Math.abs(value) >= 1e6) return value.toExponential(1);
  return Math.abs(value) >= 100 ? String(Math.round(value)) : trimZeros(value.toPrecision(3));
}

const quantileNames = new Map<number, string>();

export function quantileName(q: number): string {
  let name = quantileNames.get(q);
  if (name === undefined) {
    const text = String(Math.round(q * 1000) / 10);
    name = `p${text.startsWith("0.") ? text.slice(1) : text}`;
    // Policies configure a handful of quantiles; the bound only guards against callers passing computed ones.
    if (quantileNames.size >= 256) quantileNames.clear();
    quantileNames.set(q, name);
  }
  return name;
}

const isoTexts = new Map<number, string>();

/** An instant as ISO 8601; window boundaries repeat for every target of a batch, so recent ones are remembered. */
export function iso(ms: number): string {
  let text = isoTexts.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (isoTexts.size >= 1024) isoTexts.clear();
    isoTexts.set(ms, text);
  }
  return text;
}

/** What `text.replace(/\.?0+$/, "")` gives: trailing zeros off, and the point before them if they follow one. */
function trimZeros(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 48) end--;
  if (end === text.length) return text;
  if (end > 0 && text.charCodeAt(end - 1) === 46) end--;
  return text.slice(0, end);
}
