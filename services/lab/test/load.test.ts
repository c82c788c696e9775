import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { emptyDesiredState } from "@meshloop/contracts";
import { eventually } from "@meshloop/test-harness";
import type { Lab } from "../src/index.ts";
import { pickRoute, rateAt, seededRandom, startLab, startLoad } from "../src/index.ts";
import type { FakeIngest } from "./fake-ingest.ts";
import { startFakeIngest } from "./fake-ingest.ts";

let ingest: FakeIngest;
let lab: Lab;

before(async () => {
  ingest = await startFakeIngest();
  lab = await startLab({ ingestUrl: ingest.url, exportDelayMs: 50, seed: 8 });
});
after(async () => {
  await lab.stop();
  await ingest.close();
});

test("rate profiles: constant, ramp (then holding), spike", () => {
  assert.equal(rateAt({ kind: "constant", rps: 7 }, 12_345), 7);
  const ramp = { kind: "ramp", fromRps: 10, toRps: 110, durationMs: 1_000 } as const;
  assert.equal(rateAt(ramp, 0), 10);
  assert.equal(rateAt(ramp, 500), 60);
  assert.equal(rateAt(ramp, 5_000), 110);
  const spike = { kind: "spike", baseRps: 5, peakRps: 50, atMs: 1_000, durationMs: 200 } as const;
  assert.deepEqual([999, 1_000, 1_199, 1_200].map((t) => rateAt(spike, t)), [5, 50, 50, 5]);
});

test("the route mix is picked by weight", () => {
  const random = seededRandom(6);
  const routes = [
    { method: "POST", path: "/checkout", weight: 3 },
    { method: "GET", path: "/products", weight: 1 },
  ];
  const n = 8_000;
  const checkouts = Array.from({ length: n }, () => pickRoute(routes, random)).filter((r) => r.path === "/checkout").length;
  assert.ok(Math.abs(checkouts / n - 0.75) < 0.02);
});

test("an open-loop constant load sends on schedule, and every span it expects reaches the ingest", async () => {
  const spansBefore = ingest.spans.length;
  const load = startLoad(lab, { profile: { kind: "constant", rps: 200 }, durationMs: 500 });
  await load.done;
  const counters = load.counters();
  assert.ok(counters.sent >= 80 && counters.sent <= 105, `sent ${counters.sent}`);
  assert.equal(counters.completed, counters.sent);
  assert.equal(counters.ok, counters.sent);
  assert.equal(counters.byStatus[200], counters.sent);
  assert.ok(counters.expectedSpans > counters.sent, "checkouts make 8 spans, product pages 1");
  await eventually(() => ingest.spans.length - spansBefore >= counters.expectedSpans, `${counters.expectedSpans} spans`, 15_000);
  assert.equal(ingest.spans.length - spansBefore, counters.expectedSpans);
});

test("an extra caller with its own identity exports its CLIENT spans and is refused once denied", async () => {
  const identity = "spiffe://cluster.local/ns/elsewhere/sa/crawler";
  const res = await fetch(`${lab.adminUrl}/admin/v1/targets/lab/payments`, {
    method: "PUT",
    body: JSON.stringify({
      generation: 1,
      desiredState: {
        ...emptyDesiredState({ mesh: "lab", namespace: "lab", service: "payments" }),
        deniedCallers: [{ identity, reason: "never-seen caller of a sensitive service" }],
      },
    }),
  });
  assert.equal(res.status, 200);
  const load = startLoad(lab, {
    profile: { kind: "constant", rps: 0 },
    extraCallers: [{ service: "crawler", identity, target: "payments", method: "POST", path: "/pay", rps: 100 }],
    durationMs: 300,
  });
  await load.done;
  const crawler = load.counters().extra["crawler"]!;
  assert.ok(crawler.sent >= 20, `sent ${crawler.sent}`);
  assert.equal(crawler.denied, crawler.sent);
  await eventually(() => ingest.spans.filter((s) => s.service === "crawler").length === crawler.sent, "crawler spans");
  const spans = ingest.spans.filter((s) => s.service === "crawler");
  assert.ok(spans.every((s) => s.kind === 3 && s.attributes["http.response.status_code"] === 403 && s.statusCode === 2));
});
