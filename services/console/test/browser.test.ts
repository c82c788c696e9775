// The page in headless Chromium against the console on the in-memory bus: a lab-like canary that rolls back and a
// security proposal. The page must show the rollback's reason, draw the services, approve the proposal with the
// token from its token field, follow new decisions live, and reconnect by itself when the console restarts.
// Screenshots go to .test-results/ for a person to look at.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { createMemoryBus } from "@meshloop/bus";
import type { Bus } from "@meshloop/bus";
import { createMemoryStore } from "@meshloop/store";
import type { StateStore } from "@meshloop/store";
import { eventually } from "@meshloop/test-harness";
import type { RunningConsole } from "./support/console-harness.ts";
import { readControl, startConsole, tokenFile, topics } from "./support/console-harness.ts";
import { actuation, actuationRecord, aggregate, aggregateRecord, decision, decisionRecord, publish, T0, WINDOW_MS } from "./support/fixtures.ts";

const CHROMIUM = "/usr/bin/chromium";
const RESULTS = new URL("../.test-results/", import.meta.url);
const TOKEN = "browser-token-0815";
const ROLLBACK_REASON = "v2's error rate 18.0% is above v1's 0.5% (limit 5%); rolling back to v1.";

let bus: Bus;
let store: StateStore;
let console_: RunningConsole;
let browser: Browser;
let page: Page;
let control: Awaited<ReturnType<typeof readControl>>;
let tokenPath: string;

const pin = decision({ generation: 1, reason: "New version v2 detected; pinning v1 at 100% before v2 gets any traffic.", weights: { v1: 100, v2: 0 } });
const step = decision({ generation: 3, reason: "The pin of v1 at 100% took effect; v2's canary starts at 20%.", weights: { v1: 80, v2: 20 } });
const rollback = decision({
  generation: 7,
  reason: ROLLBACK_REASON,
  weights: { v1: 100, v2: 0 },
  evidence: [{ metric: "error-ratio v2", value: 0.18, threshold: 0.05, comparison: ">", window: { startMs: T0 + 6 * WINDOW_MS, endMs: T0 + 7 * WINDOW_MS }, statistic: "error-ratio" }],
});
const proposal = decision({
  generation: 9,
  controllers: ["security"],
  reason: "Caller lab/crawler is new and fails authorization on 80% of its calls; proposing to deny it (awaiting approval) for 10m.",
  weights: { v1: 100, v2: 0 },
  requiresApproval: true,
  deniedCallers: [{ identity: "spiffe://cluster.local/ns/lab/sa/crawler", service: "crawler", namespace: "lab", reason: "fails authorization on 80% of its calls", leaseExpiresAt: new Date(T0 + 3_600_000).toISOString() }],
});

/** Nine windows of the lab's topology; payments' v2 gets 20% of the traffic from window 3 and fails from window 5. */
function labAggregates() {
  const out = [];
  for (let w = 0; w < 9; w++) {
    const start = T0 + w * WINDOW_MS;
    const v2Share = w >= 3 && w < 7 ? 0.2 : 0;
    const v2 = Math.round(600 * v2Share);
    const v2Errors = w >= 5 && w < 7 ? Math.round(v2 * 0.18) : 0;
    out.push(aggregate({ service: "frontend", windowStartMs: start, versions: { v1: { requests: 600, errors: v2Errors, latencyMs: 40 } }, outbound: [["checkout", 600, v2Errors]] }));
    out.push(aggregate({ service: "checkout", windowStartMs: start, versions: { v1: { requests: 600, errors: v2Errors, latencyMs: 30 } }, inbound: [["frontend", 600, v2Errors]], outbound: [["payments", 600, v2Errors]] }));
    out.push(aggregate({ service: "payments", windowStartMs: start, versions: { v1: { requests: 600 - v2, errors: 3, latencyMs: 12 }, ...(v2 > 0 ? { v2: { requests: v2, errors: v2Errors, latencyMs: 25 } } : {}) }, inbound: [["checkout", 600, v2Errors]], outbound: [["ledger", 600, 0]] }));
    out.push(aggregate({ service: "ledger", windowStartMs: start, versions: { v1: { requests: 600, errors: 0, latencyMs: 2 } }, inbound: [["payments", 600, 0]] }));
  }
  return out;
}

/** The page draws on the next animation frame after a change: counts are awaited, not read once. */
async function countIs(selector: string, expected: number, what: string): Promise<void> {
  await eventually(async () => (await page.locator(selector).count()) === expected, `${what} (${expected} of ${selector})`, 10_000);
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, RESULTS).pathname, fullPage: true });
}

before(async () => {
  // Not a skip: without the browser this test proves nothing, and a silent pass would hide that.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Chromium (as root on Debian: apt-get install -y chromium) to run the console's browser test`);
  mkdirSync(RESULTS, { recursive: true });
  bus = createMemoryBus();
  store = createMemoryStore();
  tokenPath = tokenFile(TOKEN);
  console_ = await startConsole(bus, store, { MESHLOOP_CONSOLE_TOKEN_FILE: tokenPath });
  control = await readControl(bus, "browser-control-reader");
  await publish(bus, topics.aggregates, labAggregates().map(aggregateRecord));
  for (const d of [pin, step, rollback]) {
    await publish(bus, topics.decisions, [decisionRecord(d)]);
    await publish(bus, topics.actuations, [actuationRecord(actuation(d))]);
  }
  await publish(bus, topics.decisions, [decisionRecord(proposal)]);
  await publish(bus, topics.actuations, [actuationRecord(actuation(proposal, "awaiting-approval"))]);
  await eventually(async () => (await console_.service.snapshot()).pending.length === 1 && console_.service.log.decisions().length === 4, "the console to read the timeline");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
  page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  page.on("pageerror", (error) => console.error("page error:", error));
});
after(async () => {
  await browser?.close();
  await control?.consumer.stop();
  await console_?.runtime.stop();
  await bus?.close();
  await store?.close();
});

test("the page shows the rollback's reason in the timeline, the services in the graph and their signals", async () => {
  await page.goto(console_.url);
  await page.locator("#connection", { hasText: "live" }).waitFor({ timeout: 10_000 });
  const rollbackRow = page.locator(`#timeline li.decision[data-decision-id="${rollback.decisionId}"]`);
  await rollbackRow.waitFor();
  assert.equal((await rollbackRow.locator(".reason-text").textContent())?.trim(), ROLLBACK_REASON);
  await countIs(`#timeline li.decision[data-decision-id="${rollback.decisionId}"] .results [data-status="applied"]`, 1, "the rollback's actuation shows as applied");
  assert.match((await rollbackRow.locator(".evidence").textContent()) ?? "", /error-ratio v2 \(error-ratio\) = 0\.18 > 0\.05/);
  await countIs("#timeline li.decision", 4, "the whole timeline");

  for (const service of ["frontend", "checkout", "payments", "ledger"]) {
    await countIs(`#graph g.node[data-service="${service}"]`, 1, `the graph shows ${service}`);
  }
  await countIs('#graph g.edge[data-caller="checkout"][data-callee="payments"]', 1, "the edge checkout -> payments");
  const paymentsCard = page.locator('#signals article[data-target="lab/lab/payments"]');
  await countIs('#signals article[data-target="lab/lab/payments"] figure.metric', 4, "rate, error %, p50 and p99");
  assert.match((await paymentsCard.locator('figure[data-metric="p50"] .legend').textContent()) ?? "", /v1 12\.\d+ ms/);
  const canary = page.locator('#canaries article[data-target="lab/lab/payments"]');
  assert.match((await canary.textContent()) ?? "", /v1 at 100%/);

  await page.selectOption("#filter-controller", "security");
  await countIs("#timeline li.decision", 1, "the controller filter leaves the security proposal");
  assert.equal(await page.locator(`#timeline li.decision[data-decision-id="${proposal.decisionId}"]`).count(), 1);
  await page.selectOption("#filter-controller", "");
  await countIs("#timeline li.decision", 4, "all decisions without the filter");
  await screenshot("console-overview");
});

test("Approve on the pending security proposal publishes the command, with the token from the page's token field", async () => {
  const card = page.locator(`#pending .proposal[data-decision-id="${proposal.decisionId}"]`);
  await card.waitFor();
  assert.match((await card.textContent()) ?? "", /deny spiffe:\/\/cluster\.local\/ns\/lab\/sa\/crawler/);

  await card.locator('button[data-action="approve"]').click();
  await page.locator("#status", { hasText: "refused (401)" }).waitFor();
  assert.equal(control.commands.length, 0, "without the token nothing is published");

  await page.fill("#token", TOKEN);
  await page.click("#token-save");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("meshloop-console-token")), TOKEN);
  await card.locator("input.reason").fill("crawler is not ours");
  await card.locator('button[data-action="approve"]').click();
  await page.locator("#status", { hasText: "approve sent by console" }).waitFor();
  await eventually(() => control.commands.length === 1, "the approve on the control topic");
  const command = control.commands[0]!;
  assert.deepEqual(
    { command: command.command, decisionId: command.decisionId, target: command.target, operator: command.operator, reason: command.reason },
    { command: "approve", decisionId: proposal.decisionId, target: proposal.target, operator: "console", reason: "crawler is not ours" },
  );
  await card.locator(".answer", { hasText: "approve sent by console" }).waitFor();
  assert.ok(await card.locator('button[data-action="approve"]').isDisabled(), "a proposal already approved cannot be approved twice");
  await screenshot("console-approved");
});

test("the page follows new decisions live and reconnects by itself when the console restarts", async () => {
  const approvedDecision = decision({ generation: 10, controllers: ["operator"], reason: "Approved by console: Caller lab/crawler is new.", weights: { v1: 100, v2: 0 } });
  await publish(bus, topics.decisions, [decisionRecord(approvedDecision)]);
  await page.locator(`#timeline li.decision[data-decision-id="${approvedDecision.decisionId}"]`).waitFor();
  await page.locator("#pending", { hasText: "No decision awaits approval." }).waitFor();

  const port = new URL(console_.url).port;
  await console_.runtime.stop();
  await page.locator("#connection", { hasText: "reconnecting" }).waitFor({ timeout: 10_000 });
  console_ = await startConsole(bus, store, { MESHLOOP_CONSOLE_TOKEN_FILE: tokenPath, MESHLOOP_CONSOLE_PORT: port });
  await page.locator("#connection", { hasText: "live" }).waitFor({ timeout: 20_000 });
  const afterRestart = decision({ generation: 11, controllers: ["canary"], reason: "New version v3 detected; pinning v1 at 100% before v3 gets any traffic.", weights: { v1: 100, v3: 0 } });
  await publish(bus, topics.decisions, [decisionRecord(afterRestart)]);
  await page.locator(`#timeline li.decision[data-decision-id="${afterRestart.decisionId}"]`).waitFor({ timeout: 10_000 });
  await screenshot("console-after-restart");
});
