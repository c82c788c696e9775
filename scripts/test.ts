// The whole test suite: lint, typecheck and every package's unit and integration tests, through turbo.
// One infrastructure lease is held for the run, so the real Kafka and Redis start once (if they are not already
// running) and stop at the end; packages' own test runs share it. Ends with one summary line over all packages.
import { spawn } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { acquireInfra } from "@meshloop/test-harness";

const root = new URL("..", import.meta.url).pathname;
const workspaces = ["packages", "services", "test"];

async function packageDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const workspace of workspaces) {
    const entries = await readdir(join(root, workspace), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) dirs.push(join(root, workspace, entry.name));
  }
  return dirs;
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

interface Counts { passed: number; failed: number; skipped: number; todo: number; missing: string[] }

/** Reads each package's JUnit report; a package that has tests but no report did not finish, which is a failure. */
async function summarize(dirs: string[]): Promise<Counts> {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0, todo: 0, missing: [] };
  for (const dir of dirs) {
    const hasTests = await readdir(join(dir, "test")).then((names) => names.some((n) => n.endsWith(".test.ts")), () => false);
    if (!hasTests) continue;
    const xml = await readFile(join(dir, ".test-results", "junit.xml"), "utf8").catch(() => null);
    if (xml === null) {
      counts.missing.push(dir.slice(root.length));
      continue;
    }
    for (const testcase of xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? []) {
      // A todo names a known open problem: counted apart whether it failed or not, as the runner's exit code does.
      if (/<skipped type="todo"/.test(testcase)) counts.todo++;
      else if (/<failure\b/.test(testcase)) counts.failed++;
      else if (/<skipped\b/.test(testcase)) counts.skipped++;
      else counts.passed++;
    }
  }
  return counts;
}

const dirs = await packageDirs();
await Promise.all(dirs.map((dir) => rm(join(dir, ".test-results"), { recursive: true, force: true })));
const started = Date.now();
const lease = await acquireInfra();
let code: number;
try {
  code = await run("pnpm", ["exec", "turbo", "run", "lint", "typecheck", "test", "--concurrency=2", "--continue"]);
} finally {
  await lease.release();
}
const counts = await summarize(dirs);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
for (const dir of counts.missing) console.log(`no test report from ${dir}: its tests did not run to the end`);
if (counts.missing.length > 0 && code === 0) code = 1;
console.log(`\nwall time ${seconds}s`);
console.log(`tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.todo} todo (known open problems, reported and not gated)`);
process.exit(code);
