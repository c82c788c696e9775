// The console as a person uses it, while a real lab scenario runs: the bad-canary scenario on the embedded loop with
// the console beside it, the page open in headless Chromium (Debian's chromium). The graph must show the lab's
// services and the timeline the rollback with its reason. A screenshot is kept in .test-results/.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { freePort, runScenario, SCENARIO_DIR } from "@meshloop/cli";
import type { DuringRun } from "@meshloop/cli";
import { loadScenario } from "@meshloop/lab";
import { eventually } from "@meshloop/test-harness";

const CHROMIUM = "/usr/bin/chromium";
const RESULTS = new URL("../.test-results/", import.meta.url);

test("the console shows the lab's services and the bad canary's rollback with its reason", { timeout: 240_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
  mkdirSync(RESULTS, { recursive: true });
  const scenario = loadScenario(readFileSync(`${SCENARIO_DIR}bad-canary.yaml`, "utf8"), "bad-canary");
  const port = await freePort();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  let seen = { rollback: false, services: [] as string[] };
  const during = async ({ log }: DuringRun): Promise<void> => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/`);
    log("console opened");
    const body = page.locator("body");
    await eventually(async () => /rolling back to v1/.test(await body.innerText()), "the rollback on the page", 120_000);
    const text = await body.innerText();
    seen = { rollback: /v2's error rate .* rolling back to v1/.test(text), services: ["frontend", "checkout", "payments", "ledger"].filter((s) => text.includes(s)) };
    await page.screenshot({ path: new URL("console-lab-bad-canary.png", RESULTS).pathname, fullPage: true });
  };
  try {
    const run = await runScenario(scenario, { log: () => undefined, mode: { kind: "embedded", console: true }, during, env: { MESHLOOP_CONSOLE_PORT: String(port), MESHLOOP_CONSOLE_HOST: "127.0.0.1" } });
    assert.deepEqual(run.verdicts.filter((v) => v.state !== "passed").map((v) => v.detail), []);
  } finally {
    await browser.close();
  }
  assert.ok(seen.rollback, "the rollback's reason on the page");
  assert.deepEqual(seen.services, ["frontend", "checkout", "payments", "ledger"]);
});
