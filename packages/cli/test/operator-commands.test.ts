import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import { createDecisionService, decisionConfig } from "@meshloop/decision/service";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, serviceEnv, uniqueName } from "@meshloop/test-harness";

const bin = fileURLToPath(new URL("../bin/meshloop.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "cli-policy-"));

function meshloop(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv["NODE_TEST_CONTEXT"];
    execFile(process.execPath, [bin, ...args], { env: childEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

test("policy validate: a good file is ok, a bad one names the file, the path and the line, exit 1", async () => {
  const good = join(dir, "good.yaml");
  const bad = join(dir, "bad.yaml");
  writeFileSync(good, "policies:\n  - name: payments\n    selector: { service: payments }\n    canary: { enabled: true }\n");
  writeFileSync(bad, "policies:\n  - name: payments\n    canary:\n      enabled: true\n      steps: [5, 10, 50]\n");
  const ok = await meshloop(["policy", "validate", good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /good\.yaml: ok, 1 policy \(payments\)/);
  const refused = await meshloop(["policy", "validate", good, bad]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /bad\.yaml: policies\[0\]\.canary\.steps \(line \d+\): the last step must be 100/);
  const usage = await meshloop(["policy"]);
  assert.equal(usage.code, 2);
});

let lease: InfraLease;
let decision: ServiceRuntime | undefined;
let env: Record<string, string>;

before(async () => {
  lease = await acquireInfra();
  const prefix = uniqueName("cli");
  env = serviceEnv(lease, prefix);
  const config = loadConfig(decisionConfig, { env: { ...env, MESHLOOP_LOG_LEVEL: "warn", MESHLOOP_DECISION_FROM_BEGINNING: "true" } });
  decision = await createServiceRuntime({ name: "decision", config, create: (context) => createDecisionService(context) });
  await decision.start();
});
after(async () => {
  await decision?.stop();
  await lease?.release();
});

test("freeze from the command line reaches the decision service, whose notice `decisions tail` prints", async () => {
  const sent = await meshloop(["freeze", "--operator", "alice", "--reason", "incident 42"], env);
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stdout, /freeze sent as command/);
  const tail = await meshloop(["decisions", "tail", "--from-beginning", "--limit", "1"], env);
  assert.equal(tail.code, 0, tail.stderr);
  assert.match(tail.stdout, /\*\s+PAUSED by operator: Frozen by alice: incident 42\./);
  const json = await meshloop(["decisions", "tail", "--from-beginning", "--limit", "1", "--json"], env);
  assert.equal((JSON.parse(json.stdout) as { type: string }).type, "dev.meshloop.pause.v1");
});

test("approve needs a decision id with its target; a malformed one is a usage error", async () => {
  const bad = await meshloop(["approve", "not-a-decision"], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /is not a decision id/);
});
