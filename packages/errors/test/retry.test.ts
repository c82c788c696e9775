import assert from "node:assert/strict";
import { test } from "node:test";
import { UnavailableError, ValidationError, withRetry } from "../src/index.ts";

const fast = { initialDelayMs: 1, maxDelayMs: 2 };

test("retries retriable errors until the operation succeeds", async () => {
  let calls = 0;
  const result = await withRetry(async () => {
    calls++;
    if (calls < 3) throw new UnavailableError("not yet");
    return "ok";
  }, { attempts: 5, ...fast });
  assert.equal(result, "ok");
  assert.equal(calls, 3);
});

test("stops at the first non-retriable error", async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(async () => { calls++; throw new ValidationError("bad input"); }, { attempts: 5, ...fast }),
    ValidationError,
  );
  assert.equal(calls, 1);
});

test("gives up after the configured attempts with the last error", async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(async () => { calls++; throw new UnavailableError(`attempt ${calls}`); }, { attempts: 3, ...fast }),
    /attempt 3/,
  );
  assert.equal(calls, 3);
});

test("refuses a nonsensical attempt count up front", async () => {
  await assert.rejects(withRetry(async () => 1, { attempts: 0, ...fast }), RangeError);
});
