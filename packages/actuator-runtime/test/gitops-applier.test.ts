// The GitOps output on a real git repository (git init in a temporary folder): files per decision, one commit per
// decision that changed something, none for one that did not, and a folder outside any repository refused at start.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { emptyTranslation } from "@meshloop/actuator-kit";
import type { Translation } from "@meshloop/actuator-kit";
import { emptyDesiredState } from "@meshloop/contracts";
import type { Decision, DesiredState, TargetRef } from "@meshloop/contracts";
import { ConfigError } from "@meshloop/errors";
import { GitCommitError, GitopsApplier, gitopsCommitAuthor } from "../src/index.ts";

const target: TargetRef = { mesh: "istio", namespace: "shop", service: "checkout" };
const signal = new AbortController().signal;
const AUTHOR = { name: "meshloop", email: "meshloop@localhost" };
const folders: string[] = [];
after(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gitops-git-"));
  folders.push(dir);
  return dir;
}

function repo(): string {
  const dir = tempDir();
  git(dir, "init", "--quiet");
  return dir;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } }).trim();
}

function commits(dir: string): string[] {
  const count = Number(git(dir, "rev-list", "--all", "--count"));
  return count === 0 ? [] : git(dir, "log", "--format=%an <%ae>|%s|%b%x00").split("\0").map((s) => s.trim()).filter((s) => s !== "");
}

function decision(generation: number, weights: Record<string, number> | null): Decision {
  return {
    decisionId: `istio/shop/checkout@${generation}`,
    target,
    generation,
    desiredState: { ...emptyDesiredState(target), weights },
    controllers: ["canary"],
    reason: "v2 passed the step",
    evidence: [],
    requiresApproval: false,
    dryRun: false,
    windowEndMs: 0,
    createdAt: new Date(0).toISOString(),
  };
}

/** A stand-in translation: weights as a ConfigMap meshloop owns; none asked: the ConfigMap deleted. */
function translate(desired: DesiredState): Translation {
  const out = emptyTranslation();
  const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "checkout-meshloop" };
  if (desired.weights === null) out.resources.push({ action: "delete", ref });
  else out.resources.push({ action: "apply", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: ref.name, namespace: ref.namespace }, data: desired.weights } as never });
  return out;
}

test("commits: one per decision that changed a file, naming target, generation and decision; none for an unchanged one", async () => {
  const dir = repo();
  writeFileSync(join(dir, "README.md"), "the team's own file, not meshloop's to commit\n");
  const applier = new GitopsApplier({ mesh: "istio", directory: dir, translate, commit: AUTHOR });
  await applier.prepare();

  const first = await applier.apply(decision(1, { v1: 90, v2: 10 }), { mode: "apply", signal });
  assert.equal(first.status, "applied", first.reason);
  assert.match(first.reason, /committed [0-9a-f]{12}/);
  assert.deepEqual(commits(dir), ["meshloop <meshloop@localhost>|meshloop: istio/shop/checkout generation 1|Decision: istio/shop/checkout@1\nReason: v2 passed the step"]);
  assert.equal(git(dir, "status", "--porcelain"), "?? README.md", "the team's untracked file is left alone");

  const same = await applier.apply(decision(2, { v1: 90, v2: 10 }), { mode: "apply", signal });
  assert.equal(same.status, "applied", same.reason);
  assert.match(same.reason, /nothing to commit/);
  assert.equal(commits(dir).length, 1, "an unchanged decision makes no commit");

  const moved = await applier.apply(decision(3, { v1: 50, v2: 50 }), { mode: "apply", signal });
  assert.equal(moved.status, "applied", moved.reason);
  assert.equal(commits(dir).length, 2);
  assert.match(commits(dir)[0]!, /\|meshloop: istio\/shop\/checkout generation 3\|Decision: istio\/shop\/checkout@3/);
  assert.match(git(dir, "show", "HEAD:istio/shop/checkout/shop/configmap-checkout-meshloop.yaml"), /v1: 50/);

  const removed = await applier.apply(decision(4, null), { mode: "apply", signal });
  assert.equal(removed.status, "applied", removed.reason);
  assert.deepEqual(removed.resources.map((r) => [r.name, r.status, r.message]), [["istio/shop/checkout/shop/configmap-checkout-meshloop.yaml", "applied", "removed"]]);
  assert.equal(commits(dir).length, 3, "a removed file is a change, committed");
  assert.equal(git(dir, "ls-files"), "", "the removal is in the commit");

  const dry = await applier.apply(decision(5, { v1: 10, v2: 90 }), { mode: "dry-run", signal });
  assert.equal(dry.status, "dry-run");
  assert.equal(commits(dir).length, 3, "a dry run neither writes nor commits");
});

test("files an earlier try wrote but could not commit are committed by the next decision", async () => {
  const dir = repo();
  const applier = new GitopsApplier({ mesh: "istio", directory: dir, translate, commit: AUTHOR });
  // Another git process holds the index: the commit fails retriably, for the actuator loop's backoff.
  writeFileSync(join(dir, ".git", "index.lock"), "");
  await assert.rejects(applier.apply(decision(1, { v1: 90, v2: 10 }), { mode: "apply", signal }), (error: unknown) => error instanceof GitCommitError && error.retriable && /index\.lock/.test(error.message));
  rmSync(join(dir, ".git", "index.lock"));
  const retried = await applier.apply(decision(1, { v1: 90, v2: 10 }), { mode: "apply", signal });
  assert.equal(retried.status, "applied", retried.reason);
  assert.ok(retried.resources.every((r) => r.status === "unchanged"), "the files were written by the first try");
  assert.equal(commits(dir).length, 1, "and are committed now");
});

test("a commit git refuses fails the decision with git's message, not retriable", async () => {
  const dir = repo();
  const hooks = join(dir, ".git", "hooks");
  mkdirSync(hooks, { recursive: true });
  writeFileSync(join(hooks, "pre-commit"), "#!/bin/sh\necho 'policy: commits need a ticket number' >&2\nexit 1\n", { mode: 0o755 });
  const applier = new GitopsApplier({ mesh: "istio", directory: dir, translate, commit: AUTHOR });
  const outcome = await applier.apply(decision(1, { v1: 90, v2: 10 }), { mode: "apply", signal });
  assert.equal(outcome.status, "failed");
  assert.match(outcome.reason, /not committed: git commit in .* failed: policy: commits need a ticket number/);
  assert.deepEqual(outcome.resources.map((r) => r.status), ["applied"], "the file was written; only the commit failed");
  assert.equal(outcome.appliedAt, undefined);
  assert.deepEqual(commits(dir), []);
});

test("commits on a folder outside any git work tree are refused at start, in one line", async () => {
  const dir = tempDir();
  const applier = new GitopsApplier({ mesh: "istio", directory: dir, translate, commit: AUTHOR });
  await assert.rejects(applier.prepare(), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^MESHLOOP_ACTUATOR_GITOPS_COMMIT is on but .* is not inside a git work tree: fatal: not a git repository/);
    assert.equal(error.message.includes("\n"), false);
    return true;
  });
  await assert.rejects(new GitopsApplier({ mesh: "istio", directory: join(dir, "missing"), translate, commit: AUTHOR }).prepare(), /cannot change to/);
  // Without commits the folder needs no repository, and nothing runs git.
  await new GitopsApplier({ mesh: "istio", directory: dir, translate }).prepare();
  const written = await new GitopsApplier({ mesh: "istio", directory: dir, translate }).apply(decision(1, { v1: 100 }), { mode: "apply", signal });
  assert.equal(written.status, "applied", written.reason);
  assert.match(readFileSync(join(dir, "istio/shop/checkout/shop/configmap-checkout-meshloop.yaml"), "utf8"), /v1: 100/);
});

test("the commit settings: off by default; on without a GitOps folder is a configuration error", () => {
  const settings = { MESHLOOP_ACTUATOR_GITOPS_AUTHOR_NAME: "bot", MESHLOOP_ACTUATOR_GITOPS_AUTHOR_EMAIL: "bot@example.com" };
  assert.equal(gitopsCommitAuthor({ ...settings, MESHLOOP_ACTUATOR_GITOPS_COMMIT: false }, "/srv/gitops"), null);
  assert.deepEqual(gitopsCommitAuthor({ ...settings, MESHLOOP_ACTUATOR_GITOPS_COMMIT: true }, "/srv/gitops"), { name: "bot", email: "bot@example.com" });
  assert.throws(() => gitopsCommitAuthor({ ...settings, MESHLOOP_ACTUATOR_GITOPS_COMMIT: true }, undefined), (e: unknown) => e instanceof ConfigError && /MESHLOOP_ACTUATOR_GITOPS_DIR is not set/.test(e.message));
});
