// The canary scenarios against the distributed loop: ingest, aggregator, decision and the lab actuator as separate
// processes on the real Kafka and Redis, as deployed. Verdicts must pass; figures are printed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { runScenario, SCENARIO_DIR } from "@meshloop/cli";
import { loadScenario } from "@meshloop/lab";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, uniqueName } from "@meshloop/test-harness";

let lease: InfraLease;
before(async () => {
  lease = await acquireInfra();
});
after(() => lease?.release());

for (const name of ["bad-canary", "healthy-canary"]) {
  const scenario = loadScenario(readFileSync(`${SCENARIO_DIR}${name}.yaml`, "utf8"), name);
  test(`distributed: ${name}`, { timeout: scenario.duration + 180_000 }, async () => {
    const lines: string[] = [];
    const mode = { kind: "distributed" as const, kafkaBrokers: lease.kafkaBrokers, redisUrl: lease.redisUrl, prefix: uniqueName("lab") };
    const run = await runScenario(scenario, { log: (line) => lines.push(line), mode });
    for (const v of run.verdicts) {
      if (v.figures !== undefined) console.log(`# distributed ${name} ${v.expectation.kind}: ${v.figures.windows} windows; decision +${v.figures.toDecisionMs} ms, applied ${v.figures.toActuationMs === null ? "-" : `+${v.figures.toActuationMs} ms`}`);
    }
    const failed = run.verdicts.filter((v) => v.state !== "passed");
    assert.deepEqual(failed.map((v) => `${v.expectation.kind}: ${v.detail}`), [], `timeline:\n${lines.join("\n")}`);
  });
}
