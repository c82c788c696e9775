// The lab's own count of its spans per service and version, by what the exporters were told: the reference the
// chaos suite holds the loop's aggregates against. Checked against a stand-in ingest that keeps every span, and
// against one that refuses every export.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ExportLedger, startLab } from "../src/index.ts";
import { startFakeIngest } from "./fake-ingest.ts";

function spans(kinds: SpanKind[]): ReadableSpan[] {
  return kinds.map((kind) => ({ kind }) as ReadableSpan);
}

test("the ledger counts spans and SERVER spans per service and version, accepted and failed apart", () => {
  const ledger = new ExportLedger();
  ledger.record("payments", "v2", spans([SpanKind.SERVER, SpanKind.CLIENT]), true);
  ledger.record("payments", "v1", spans([SpanKind.SERVER, SpanKind.SERVER, SpanKind.CLIENT]), true);
  ledger.record("payments", "v1", spans([SpanKind.SERVER, SpanKind.CLIENT, SpanKind.CLIENT]), false);
  ledger.record("checkout", "v1", spans([SpanKind.CLIENT]), true);
  assert.deepEqual(ledger.list(), [
    { service: "checkout", version: "v1", accepted: 1, acceptedServer: 0, failed: 0, failedServer: 0 },
    { service: "payments", version: "v1", accepted: 3, acceptedServer: 2, failed: 3, failedServer: 1 },
    { service: "payments", version: "v2", accepted: 2, acceptedServer: 1, failed: 0, failedServer: 0 },
  ]);
  // Copies: a caller changing what it got does not change the ledger.
  ledger.list()[0]!.accepted = 99;
  assert.equal(ledger.list()[0]!.accepted, 1);
});

test("a lab's exported spans match what the ingest received, per service and version, once the lab stopped", async () => {
  const ingest = await startFakeIngest();
  const lab = await startLab({ ingestUrl: ingest.url, exportDelayMs: 20, seed: 3 });
  const n = 40;
  try {
    for (let i = 0; i < n; i++) assert.equal((await lab.request("frontend", "POST", "/checkout")).status, 200);
  } finally {
    await lab.stop();
    await ingest.close();
  }
  const received = new Map<string, { all: number; server: number }>();
  for (const span of ingest.spans) {
    const key = `${span.service}/${span.version}`;
    const row = received.get(key) ?? { all: 0, server: 0 };
    row.all++;
    if (span.kind === 2) row.server++;
    received.set(key, row);
  }
  const exported = lab.exportedSpans();
  assert.deepEqual(
    exported.map((r) => [`${r.service}/${r.version}`, r.accepted, r.acceptedServer]),
    [...received].sort(([a], [b]) => a.localeCompare(b)).map(([key, r]) => [key, r.all, r.server]),
  );
  assert.ok(exported.every((r) => r.failed === 0 && r.failedServer === 0));
  // One SERVER span per request at each instrumented hop (fraud-api exports nothing).
  const server = (service: string) => exported.filter((r) => r.service === service).reduce((sum, r) => sum + r.acceptedServer, 0);
  assert.deepEqual(["frontend", "checkout", "payments", "ledger"].map(server), [n, n, n, n]);
  assert.equal(exported.reduce((sum, r) => sum + r.accepted, 0), lab.counters().spansExported);
});

test("spans of exports the ingest refused are counted as failed, not accepted", async () => {
  // Answers 400 (not retried by the SDK): every export fails at once.
  const refusing = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(400).end());
  });
  await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
  const lab = await startLab({ ingestUrl: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`, exportDelayMs: 20, seed: 5 });
  const n = 10;
  try {
    for (let i = 0; i < n; i++) await lab.request("frontend", "POST", "/checkout");
  } finally {
    await lab.stop();
    await new Promise<void>((resolve) => {
      refusing.close(() => resolve());
      refusing.closeAllConnections();
    });
  }
  const exported = lab.exportedSpans();
  assert.ok(exported.length > 0);
  assert.ok(exported.every((r) => r.accepted === 0 && r.acceptedServer === 0));
  assert.equal(exported.filter((r) => r.service === "ledger").reduce((sum, r) => sum + r.failedServer, 0), n);
  assert.equal(exported.reduce((sum, r) => sum + r.failed, 0), lab.counters().spansFailed);
});
