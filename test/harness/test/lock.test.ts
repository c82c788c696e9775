import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { uniqueName, withFileLock } from "../src/index.ts";

test("the lock serialises concurrent holders", async () => {
  const dir = join(tmpdir(), uniqueName("lock"));
  let inside = 0;
  let maxInside = 0;
  await Promise.all(Array.from({ length: 5 }, () => withFileLock(dir, async () => {
    inside++;
    maxInside = Math.max(maxInside, inside);
    await sleep(10);
    inside--;
  })));
  assert.equal(maxInside, 1);
});

test("a lock left by a dead process is taken over", async () => {
  const dir = join(tmpdir(), uniqueName("lock"));
  const child = spawn(process.execPath, ["-e", ""]);
  const deadPid = child.pid!;
  await new Promise((resolve) => child.once("exit", resolve));
  await mkdir(join(dir, "lock"), { recursive: true });
  await writeFile(join(dir, "lock", "pid"), String(deadPid));
  const result = await withFileLock(dir, async () => "taken", 2_000);
  assert.equal(result, "taken");
});

test("unique names differ and stay inside Kafka's topic alphabet", () => {
  const names = new Set(Array.from({ length: 100 }, () => uniqueName("t")));
  assert.equal(names.size, 100);
  for (const name of names) assert.match(name, /^[a-zA-Z0-9._-]+$/);
});
