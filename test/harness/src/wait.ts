import { setTimeout as sleep } from "node:timers/promises";

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. For asynchronous outcomes in tests. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}
