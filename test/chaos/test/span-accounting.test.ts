// The chaos suite's span accounting on made-up figures: exact, within the failed exports' margin, a loss, a double
// count, an aggregate read twice and one restated.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WindowAggregate } from "@meshloop/contracts";
import { emptySketch } from "@meshloop/contracts";
import type { ExportedSpans } from "@meshloop/lab";
import { accountingProblems, accountSpans, formatAccounting } from "./span-accounting.ts";

function aggregate(service: string, windowStartMs: number, requests: Record<string, number>, spans: { accepted: number; duplicate?: number; late?: number }, part = { index: 0, count: 1 }): WindowAggregate {
  const counters = (n: number) => ({ requests: n, errors: 0, status: { "2xx": n, "3xx": 0, "4xx": 0, "401": 0, "403": 0, "5xx": 0, grpcErrors: 0 }, latency: emptySketch(), sampling: "unknown" as const });
  return {
    id: `aggregate:${service}:${windowStartMs}:1000:${part.index}/${part.count}`,
    service,
    target: { mesh: "lab", namespace: "lab", service },
    windowStartMs,
    windowMs: 1000,
    series: Object.entries(requests).map(([version, n]) => ({ version, instance: `${service}-${version}-0`, locality: { region: null, zone: null, cluster: null }, counters: counters(n) })),
    routes: [],
    inbound: [],
    outbound: [],
    spans: { accepted: spans.accepted, late: spans.late ?? 0, skewed: 0, duplicate: spans.duplicate ?? 0 },
    resources: [],
    completeness: { complete: true, missingPartitions: [] },
    part,
  };
}

const exported: ExportedSpans[] = [
  { service: "payments", version: "v1", accepted: 20, acceptedServer: 10, failed: 4, failedServer: 2 },
  { service: "payments", version: "v2", accepted: 6, acceptedServer: 3, failed: 0, failedServer: 0 },
];

test("counts within accepted..accepted+failed pass; duplicates removed and rereads are reported, not summed", () => {
  const aggregates = [
    aggregate("payments", 1000, { v1: 6, v2: 3 }, { accepted: 18, duplicate: 5 }),
    aggregate("payments", 2000, { v1: 5 }, { accepted: 10, late: 2 }),
    aggregate("payments", 2000, { v1: 5 }, { accepted: 10, late: 2 }),
  ];
  const a = accountSpans(exported, aggregates);
  assert.deepEqual(accountingProblems(a), []);
  assert.deepEqual(a.versions.map((v) => [v.version, v.accepted, v.failed, v.counted]), [["v1", 10, 2, 11], ["v2", 3, 0, 3]]);
  assert.deepEqual(a.services, [{ service: "payments", accepted: 26, failed: 4, counted: 28, duplicatesRemoved: 5, late: 2, skewed: 0 }]);
  assert.equal(a.aggregates, 2);
  assert.equal(a.rereads, 1);
  assert.ok(formatAccounting(a).some((line) => line.includes("duplicates removed 5")));
});

test("a loss and a double count are named with their size", () => {
  const lost = accountSpans(exported, [aggregate("payments", 1000, { v1: 8, v2: 3 }, { accepted: 26 })]);
  assert.deepEqual(accountingProblems(lost), ["payments v1 requests: 2 spans acknowledged to the exporter were lost (counted 8 of 10 accepted)"]);
  const twice = accountSpans(exported, [aggregate("payments", 1000, { v1: 10, v2: 3 }, { accepted: 33 })]);
  assert.deepEqual(accountingProblems(twice), ["payments spans: counted 33, more than the 26 accepted + 4 failed exports: 3 counted twice"]);
});

test("an aggregate restated with other content, a service the lab never exported and no aggregates at all are problems", () => {
  const a = accountSpans(exported, [
    aggregate("payments", 1000, { v1: 10, v2: 3 }, { accepted: 26 }),
    aggregate("payments", 1000, { v1: 11, v2: 3 }, { accepted: 26 }),
    aggregate("stranger", 1000, { v1: 1 }, { accepted: 1 }),
  ]);
  assert.deepEqual(accountingProblems(a), [
    "stranger v1 requests: counted 1, more than the 0 accepted + 0 failed exports: 1 counted twice",
    "stranger spans: counted 1, more than the 0 accepted + 0 failed exports: 1 counted twice",
    "aggregate aggregate:payments:1000:1000:0/1 was published twice with different content",
  ]);
  assert.deepEqual(accountingProblems(accountSpans(exported, [])).at(-1), "no aggregates were read");
});

test("the span counts of a split aggregate are summed once, its series from every part", () => {
  const a = accountSpans(exported, [
    aggregate("payments", 1000, { v1: 10 }, { accepted: 26 }, { index: 0, count: 2 }),
    aggregate("payments", 1000, { v2: 3 }, { accepted: 0 }, { index: 1, count: 2 }),
  ]);
  assert.deepEqual(accountingProblems(a), []);
  assert.deepEqual(a.versions.map((v) => v.counted), [10, 3]);
});
