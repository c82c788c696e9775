import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** True while a process with this pid exists (signal 0 only asks). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs `fn` holding a cross-process lock. `mkdir` is atomic on every local filesystem, so the process that
 * creates the folder owns the lock; a lock whose owner died is taken over, so a killed test run never wedges
 * the next one.
 */
export async function withFileLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const lockDir = join(dir, "lock");
  const deadline = Date.now() + timeoutMs;
  await mkdir(dir, { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(await readFile(join(lockDir, "pid"), "utf8").catch(() => "0"));
      // An owner that has not written its pid yet is alive; only a recorded, dead owner is taken over.
      if (owner > 0 && !processAlive(owner)) await rm(lockDir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`test infra lock ${lockDir} held by pid ${owner} for over ${timeoutMs} ms`, { cause: error });
      else await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
