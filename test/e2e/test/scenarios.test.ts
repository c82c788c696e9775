// Every shipped lab scenario on the embedded loop (in-memory bus and store, every service in this process, the lab
// beside it): the verdicts must all pass. Figures (fault onset -> decision -> actuation) are printed, not asserted.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { test } from "node:test";
import { runScenario, shipped } from "@meshloop/cli";
import { loadScenario } from "@meshloop/lab";

for (const file of await shipped()) {
  const scenario = loadScenario(readFileSync(file, "utf8"), file);
  test(`scenario ${basename(file, ".yaml")}: ${scenario.description}`, { timeout: scenario.duration + 120_000 }, async () => {
    const lines: string[] = [];
    const run = await runScenario(scenario, { log: (line) => lines.push(line) });
    for (const v of run.verdicts) {
      if (v.figures !== undefined) {
        console.log(`# ${scenario.name} ${v.expectation.kind}: ${v.figures.windows} windows; decision +${v.figures.toDecisionMs} ms, applied ${v.figures.toActuationMs === null ? "-" : `+${v.figures.toActuationMs} ms`}`);
      }
    }
    const failed = run.verdicts.filter((v) => v.state !== "passed");
    assert.deepEqual(failed.map((v) => `${v.expectation.kind} ${v.expectation.service}: ${v.detail}`), [], `timeline:\n${lines.join("\n")}`);
  });
}
