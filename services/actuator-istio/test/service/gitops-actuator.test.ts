// The Istio actuator as a service on the real Kafka and Redis, in its GitOps output: a decision in, Istio resources
// written as files (validated by @kubernetes-models/istio through the translation), the result on the actuations topic.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import type { RunningActuator } from "./actuator-harness.ts";
import { decision, startActuator } from "./actuator-harness.ts";

const dir = mkdtempSync(join(tmpdir(), "gitops-"));
let actuator: RunningActuator;

before(async () => {
  actuator = await startActuator({ MESHLOOP_ACTUATOR_GITOPS_DIR: dir });
});
after(() => actuator?.stop());

const publish = (d: Parameters<RunningActuator["publish"]>[0]) => actuator.publish(d);

function files(): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

test("a decision becomes Istio resources in the GitOps folder; the same state again changes no file; a stale one is skipped", async () => {
  const first = await publish(decision(1_000_000, { v1: 90, v2: 10 }));
  assert.equal(first.status, "applied", first.reason);
  const written = files();
  const vsFile = written.find((f) => f.includes("virtualservice-"));
  assert.ok(vsFile, `a VirtualService among ${written.join(", ")}`);
  assert.ok(written.some((f) => f.includes("destinationrule-")), "the subsets' DestinationRule");
  const vs = parse(readFileSync(join(dir, vsFile), "utf8")) as { apiVersion: string; metadata: { labels: Record<string, string> }; spec: { http: Array<{ route: Array<{ destination: { subset: string }; weight: number }>; retries?: { attempts: number } }> } };
  assert.equal(vs.apiVersion, "networking.istio.io/v1");
  assert.equal(vs.metadata.labels["app.kubernetes.io/managed-by"], "meshloop");
  const route = vs.spec.http.find((h) => h.route.length === 2)!;
  assert.deepEqual(route.route.map((r) => [r.destination.subset, r.weight]), [["v1", 90], ["v2", 10]]);
  assert.equal(route.retries?.attempts, 2);

  const again = await publish(decision(2_000_000, { v1: 90, v2: 10 }));
  assert.equal(again.status, "applied");
  assert.ok(again.resources.every((r) => r.status === "unchanged"), "the same desired state rewrites nothing");
  const stale = await publish(decision(1_500_000, { v1: 0, v2: 100 }));
  assert.equal(stale.status, "stale");
  const after = parse(readFileSync(join(dir, vsFile), "utf8")) as typeof vs;
  assert.deepEqual(after.spec.http.find((h) => h.route.length === 2)!.route.map((r) => r.weight), [90, 10], "the stale decision changed nothing");
});

test("with MESHLOOP_ACTUATOR_GITOPS_COMMIT the change is committed to the folder's git repository, once per changed decision", async () => {
  const repo = mkdtempSync(join(tmpdir(), "gitops-repo-"));
  execFileSync("git", ["init", "--quiet", repo]);
  const committing = await startActuator({ MESHLOOP_ACTUATOR_GITOPS_DIR: repo, MESHLOOP_ACTUATOR_GITOPS_COMMIT: "true" });
  try {
    const log = () => execFileSync("git", ["-C", repo, "log", "--format=%an|%s"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
    assert.equal((await committing.publish(decision(1_000_000, { v1: 90, v2: 10 }))).status, "applied");
    assert.equal(log().length, 1);
    assert.match(log()[0]!, /^meshloop\|meshloop: istio\/.+ generation 1000000$/);
    assert.equal((await committing.publish(decision(2_000_000, { v1: 90, v2: 10 }))).status, "applied");
    assert.equal(log().length, 1, "an unchanged desired state makes no commit");
    assert.equal((await committing.publish(decision(3_000_000, { v1: 50, v2: 50 }))).status, "applied");
    assert.equal(log().length, 2);
  } finally {
    await committing.stop();
  }
});
