import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { emptyDesiredState, targetKey } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import { ConsulGitopsApplier } from "../../src/service/index.ts";

const target: TargetRef = { mesh: "consul", namespace: "shop", service: "checkout" };
const signal = new AbortController().signal;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "consul-gitops-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function decision(parts: Partial<Omit<DesiredState, "target">>, generation = 1): Decision {
  return {
    decisionId: `${targetKey(target)}@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), ...parts },
    controllers: ["canary"],
    reason: "v2 passed the 10% step",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 0,
    createdAt: new Date().toISOString(),
  };
}

async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}

test("weights become the resolver's and splitter's JSON files; the same state again changes no file; dry-run writes none", async () => {
  const root = join(dir, "api");
  const applier = new ConsulGitopsApplier({ directory: root });
  assert.equal(applier.mesh, "consul");
  const dry = await applier.apply(decision({ weights: { v1: 90, v2: 10 } }), { mode: "dry-run", signal });
  assert.equal(dry.status, "dry-run");
  assert.deepEqual(await files(root), []);

  const first = await applier.apply(decision({ weights: { v1: 90, v2: 10 } }), { mode: "apply", signal });
  assert.equal(first.status, "applied", first.reason);
  assert.deepEqual(await files(root), ["consul/shop/checkout/consul/service-resolver-checkout.json", "consul/shop/checkout/consul/service-splitter-checkout.json"]);
  const splitter = JSON.parse(await readFile(join(root, "consul/shop/checkout/consul/service-splitter-checkout.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual(Object.keys(splitter).slice(0, 2), ["Kind", "Name"], "the order consul config write files are read in");
  assert.deepEqual(splitter.Splits, [{ ServiceSubset: "v1", Weight: 90 }, { ServiceSubset: "v2", Weight: 10 }]);
  assert.equal(splitter.ModifyIndex, undefined);

  const again = await applier.apply(decision({ weights: { v1: 90, v2: 10 } }), { mode: "apply", signal });
  assert.ok(again.resources.length === 2 && again.resources.every((r) => r.status === "unchanged"));
  const moved = await applier.apply(decision({ weights: { v1: 50, v2: 50 } }), { mode: "apply", signal });
  assert.deepEqual(moved.resources.map((r) => r.status), ["unchanged", "applied"], "only the splitter changed");
});

test("Enterprise scope goes into the entries and their paths; parts Consul cannot do alone are unsupported", async () => {
  const root = join(dir, "enterprise");
  const applier = new ConsulGitopsApplier({ directory: root, namespace: "team-a", partition: "p1" });
  const outcome = await applier.apply(decision({ weights: { v1: 100 } }), { mode: "apply", signal });
  assert.equal(outcome.status, "applied", outcome.reason);
  const path = "consul/shop/checkout/consul/p1/team-a/service-splitter-checkout.json";
  assert.ok((await files(root)).includes(path));
  const entry = JSON.parse(await readFile(join(root, path), "utf8")) as Record<string, unknown>;
  assert.deepEqual([entry.Namespace, entry.Partition], ["team-a", "p1"]);

  const limits = await applier.apply(decision({ connectionLimits: { maxConnections: 10, maxPendingRequests: 5, maxRequests: 20, maxRetries: 1 } }), { mode: "apply", signal });
  assert.equal(limits.status, "unsupported");
  assert.deepEqual(limits.unsupported.map((u) => u.capability), ["connectionLimits"]);
});

test("with commits on, each decision that changed an entry is one commit by meshloop in the folder's repository", async () => {
  const root = join(dir, "repository");
  await mkdir(root);
  const git = (...args: string[]) => execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
  git("init", "--quiet");
  const applier = new ConsulGitopsApplier({ directory: root, commit: { name: "meshloop", email: "meshloop@localhost" } });
  await applier.prepare();
  const first = await applier.apply(decision({ weights: { v1: 90, v2: 10 } }, 7), { mode: "apply", signal });
  assert.equal(first.status, "applied", first.reason);
  assert.equal(git("log", "--format=%an|%s|%b"), "meshloop|meshloop: consul/shop/checkout generation 7|Decision: consul/shop/checkout@7\nReason: v2 passed the 10% step");
  assert.deepEqual(git("ls-files").split("\n"), ["consul/shop/checkout/consul/service-resolver-checkout.json", "consul/shop/checkout/consul/service-splitter-checkout.json"]);
  const same = await applier.apply(decision({ weights: { v1: 90, v2: 10 } }, 8), { mode: "apply", signal });
  assert.equal(same.status, "applied", same.reason);
  assert.equal(git("rev-list", "--count", "HEAD"), "1", "nothing changed: no commit");
  const moved = await applier.apply(decision({ weights: { v1: 50, v2: 50 } }, 9), { mode: "apply", signal });
  assert.equal(moved.status, "applied", moved.reason);
  assert.equal(git("log", "-1", "--format=%s"), "meshloop: consul/shop/checkout generation 9");
  assert.equal(git("show", "--name-only", "--format=", "HEAD"), "consul/shop/checkout/consul/service-splitter-checkout.json", "the commit holds the changed entry only");

  const outside = new ConsulGitopsApplier({ directory: join(dir, "api"), commit: { name: "meshloop", email: "meshloop@localhost" } });
  await assert.rejects(outside.prepare(), /MESHLOOP_ACTUATOR_GITOPS_COMMIT is on but .* is not inside a git work tree/);
});
