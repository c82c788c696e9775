import { badRequest } from "./status.ts";

/**
 * Label selectors as the API's `labelSelector` parameter takes them: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
 * `a in (x,y)`, `a notin (x,y)`, comma-separated and all required.
 */
export type LabelRequirement = (labels: Record<string, string>) => boolean;

export function parseLabelSelector(selector: string): LabelRequirement {
  const requirements = splitTerms(selector).map(parseTerm);
  return (labels) => requirements.every((r) => r(labels));
}

// Commas inside `in (...)` do not split terms.
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      terms.push(current);
      current = "";
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== "");
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

function parseTerm(term: string): LabelRequirement {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set !== null) {
    const key = checkKey(set[1]!, term);
    const values = new Set(set[3]!.split(",").map((v) => v.trim()));
    return set[2] === "in" ? (l) => l[key] !== undefined && values.has(l[key]) : (l) => l[key] === undefined || !values.has(l[key]);
  }
  const eq = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (eq !== null) {
    const key = checkKey(eq[1]!, term);
    const value = eq[3]!;
    return eq[2] === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  if (term.startsWith("!")) {
    const key = checkKey(term.slice(1), term);
    return (l) => l[key] === undefined;
  }
  const key = checkKey(term, term);
  return (l) => l[key] !== undefined;
}

function checkKey(key: string, term: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: found '${term}', expected: a valid label key`);
  return key;
}
