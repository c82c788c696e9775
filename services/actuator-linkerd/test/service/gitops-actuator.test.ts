// The Linkerd actuator as a service on the real Kafka and Redis in its GitOps output with commits: decisions in,
// files written and committed in a real git repository, results on actuations; a folder outside git refused at start.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startActuator } from "@meshloop/actuator-runtime/testing";
import { ConfigError } from "@meshloop/errors";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import { createLinkerdActuatorService, linkerdActuatorConfig } from "../../src/service/index.ts";
import { decisionFor, RETRIES } from "../cluster.ts";

const target = { mesh: "linkerd" as const, namespace: "shop", service: "checkout" };
const folders: string[] = [];
after(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "linkerd-gitops-"));
  folders.push(dir);
  return dir;
}

const git = (dir: string, ...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();

test("each decision that changes the output is one commit naming target, generation and decision; an unchanged one none", async () => {
  const dir = folder();
  git(dir, "init", "--quiet");
  const actuator = await startActuator({
    name: "actuator-linkerd",
    config: linkerdActuatorConfig,
    create: (context) => createLinkerdActuatorService(context),
    env: { MESHLOOP_ACTUATOR_GITOPS_DIR: dir, MESHLOOP_ACTUATOR_GITOPS_COMMIT: "true", MESHLOOP_ACTUATOR_GITOPS_AUTHOR_EMAIL: "bot@example.com", MESHLOOP_LINKERD_GITOPS_SERVICE_PORT: "8080" },
  });
  try {
    const first = await actuator.publish(decisionFor(target, 1_000_000, { weights: { v1: 90, v2: 10 }, retries: RETRIES }));
    assert.equal(first.status, "applied", first.reason);
    assert.equal(git(dir, "log", "--format=%an <%ae>|%s"), "meshloop <bot@example.com>|meshloop: linkerd/shop/checkout generation 1000000");
    assert.match(git(dir, "log", "-1", "--format=%b"), /^Decision: linkerd\/shop\/checkout@1000000$/m);
    assert.deepEqual(git(dir, "ls-files").split("\n"), ["linkerd/shop/checkout/shop/httproute-checkout-meshloop.yaml", "linkerd/shop/checkout/shop/service-checkout.patch.yaml"]);

    const same = await actuator.publish(decisionFor(target, 2_000_000, { weights: { v1: 90, v2: 10 }, retries: RETRIES }));
    assert.equal(same.status, "applied", same.reason);
    assert.equal(git(dir, "rev-list", "--count", "HEAD"), "1", "nothing changed: no commit");

    const moved = await actuator.publish(decisionFor(target, 3_000_000, { weights: { v1: 50, v2: 50 }, retries: RETRIES }));
    assert.equal(moved.status, "applied", moved.reason);
    assert.equal(git(dir, "log", "-1", "--format=%s"), "meshloop: linkerd/shop/checkout generation 3000000");
    assert.match(git(dir, "show", "HEAD:linkerd/shop/checkout/shop/httproute-checkout-meshloop.yaml"), /weight: 50/);
    assert.equal(git(dir, "status", "--porcelain"), "", "everything written is committed");
  } finally {
    await actuator.stop();
  }
});

test("commits on a folder outside git stop the service at start with one line; commits without a folder are a config error", async () => {
  const dir = folder();
  await assert.rejects(
    startActuator({
      name: "actuator-linkerd",
      config: linkerdActuatorConfig,
      create: (context) => createLinkerdActuatorService(context),
      env: { MESHLOOP_ACTUATOR_GITOPS_DIR: dir, MESHLOOP_ACTUATOR_GITOPS_COMMIT: "true" },
    }),
    (error: unknown) => {
      // The lifecycle names the service that failed; the cause is the configuration error, in one line.
      assert.ok(error instanceof Error && error.cause instanceof ConfigError, String(error));
      assert.equal(error.cause.message, `MESHLOOP_ACTUATOR_GITOPS_COMMIT is on but ${dir} is not inside a git work tree: fatal: not a git repository (or any of the parent directories): .git`);
      return true;
    },
  );
  const config = loadConfig(linkerdActuatorConfig, { env: { MESHLOOP_ACTUATOR_GITOPS_COMMIT: "true", MESHLOOP_HTTP_PORT: "0" } });
  await assert.rejects(createServiceRuntime({ name: "actuator-linkerd", config, create: (context) => createLinkerdActuatorService(context) }), /MESHLOOP_ACTUATOR_GITOPS_DIR is not set/);
});
