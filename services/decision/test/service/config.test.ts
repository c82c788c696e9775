import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger, loadConfig } from "@meshloop/runtime";
import { decisionConfig, PolicySource } from "../../src/service/index.ts";

test("the configuration has defaults, and a bad value is one line naming the variable", () => {
  const config = loadConfig(decisionConfig, { env: {} });
  assert.equal(config.MESHLOOP_DECISION_PROPAGATION_DELAY, 5_000);
  assert.equal(config.MESHLOOP_DECISION_GLOBAL_MAX_ACTIONS_PER_MINUTE, 50);
  assert.equal(config.MESHLOOP_DECISION_POLICY_FILES, undefined);
  assert.throws(() => loadConfig(decisionConfig, { env: { MESHLOOP_DECISION_PROPAGATION_DELAY: "soon" } }), (error: Error) => {
    assert.match(error.message, /MESHLOOP_DECISION_PROPAGATION_DELAY/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
});

test("policies hot-reload; a bad new file keeps the last good policies and says why", async () => {
  const dir = mkdtempSync(join(tmpdir(), "policies-"));
  const file = join(dir, "p.yaml");
  writeFileSync(file, "policies:\n  - name: one\n");
  const outcomes: string[] = [];
  const source = new PolicySource({
    files: [file],
    reloadIntervalMs: 60_000,
    logger: createLogger({ service: "test", level: "silent" }),
    onLoad: (o) => outcomes.push(o.ok ? `ok:${o.count}` : `refused:${o.error.message}`),
  });
  await source.start();
  try {
    assert.deepEqual(source.policies.map((p) => p.name), ["one"]);
    writeFileSync(file, "policies:\n  - name: one\n  - name: two\n    canary: { steps: [5, 200] }\n");
    await source.reload();
    assert.deepEqual(source.policies.map((p) => p.name), ["one"], "the last good policies stay");
    assert.match(outcomes.at(-1)!, /^refused:.*p\.yaml: policies\[1\]\.canary\.steps/);
    writeFileSync(file, "policies:\n  - name: one\n  - name: two\n");
    await source.reload();
    assert.deepEqual(source.policies.map((p) => p.name), ["one", "two"]);
    await source.reload();
    assert.deepEqual(outcomes, ["ok:1", outcomes[1], "ok:2"], "an unchanged file is not reloaded");
  } finally {
    source.stop();
  }
});

test("a service does not start on policy files it cannot read", async () => {
  const source = new PolicySource({ files: ["/nonexistent/p.yaml"], reloadIntervalMs: 1_000, logger: createLogger({ service: "test", level: "silent" }) });
  await assert.rejects(source.start(), /ENOENT/);
});
