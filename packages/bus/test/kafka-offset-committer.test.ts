import assert from "node:assert/strict";
import { test } from "node:test";
import { OffsetCommitter } from "../src/kafka/kafka-offset-committer.ts";

type Offsets = { topic: string; partition: number; offset: string }[];

/** A commit client whose requests stay open until the test answers them. */
function fakeClient() {
  const requests: { offsets: Offsets; answer: (error?: Error) => void }[] = [];
  return {
    requests,
    commitOffsets: (offsets: Offsets) =>
      new Promise<void>((resolve, reject) => {
        requests.push({ offsets, answer: (error) => (error ? reject(error) : resolve()) });
      }),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("one request at a time; what is handled meanwhile goes out together, the newest offset of each partition", async () => {
  const client = fakeClient();
  const committer = new OffsetCommitter(client, () => assert.fail("no error expected"));
  committer.add("t", 0, 5);
  assert.equal(client.requests.length, 1, "the first commit goes out at once");
  committer.add("t", 1, 3);
  committer.add("t", 0, 9);
  committer.add("t", 0, 7);
  committer.add("u", 2, 1);
  assert.equal(client.requests.length, 1, "nothing more while one is open");
  client.requests[0]!.answer();
  await tick();
  assert.equal(client.requests.length, 2);
  const sorted = [...client.requests[1]!.offsets].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  assert.deepEqual(sorted, [
    { topic: "t", partition: 0, offset: "9" },
    { topic: "t", partition: 1, offset: "3" },
    { topic: "u", partition: 2, offset: "1" },
  ]);
});

test("flush waits until everything added has been committed", async () => {
  const client = fakeClient();
  const committer = new OffsetCommitter(client, () => undefined);
  committer.add("t", 0, 1);
  committer.add("t", 1, 1);
  let flushed = false;
  const flushing = committer.flush().then(() => (flushed = true));
  await tick();
  assert.equal(flushed, false);
  client.requests[0]!.answer();
  await tick();
  assert.equal(flushed, false, "the second request is still open");
  client.requests[1]!.answer();
  await flushing;
  assert.equal(client.requests.length, 2);
  await committer.flush();
});

test("a failed commit is reported and not retried; the next commit goes on", async () => {
  const client = fakeClient();
  const errors: unknown[] = [];
  const committer = new OffsetCommitter(client, (error) => errors.push(error));
  committer.add("t", 0, 4);
  client.requests[0]!.answer(new Error("coordinator moved"));
  await committer.flush();
  assert.equal(errors.length, 1);
  assert.equal(client.requests.length, 1, "not retried on its own");
  committer.add("t", 0, 6);
  assert.deepEqual(client.requests[1]!.offsets, [{ topic: "t", partition: 0, offset: "6" }]);
});

test("after a rebalance, offsets of partitions this member lost are dropped", async () => {
  const client = fakeClient();
  const committer = new OffsetCommitter(client, () => undefined);
  committer.add("t", 0, 1);
  committer.add("t", 1, 8);
  committer.add("t", 2, 8);
  committer.retain([{ topic: "t", partitions: [2] }]);
  client.requests[0]!.answer();
  await tick();
  assert.deepEqual(client.requests[1]!.offsets, [{ topic: "t", partition: 2, offset: "8" }]);
});

test("with an interval, commits wait for it and carry everything handled meanwhile; flush sends at once", async () => {
  const client = fakeClient();
  const committer = new OffsetCommitter(client, () => undefined, 60_000);
  committer.add("t", 0, 1);
  assert.equal(client.requests.length, 1, "the first commit goes out at once");
  client.requests[0]!.answer();
  await tick();
  committer.add("t", 0, 2);
  committer.add("t", 1, 5);
  await tick();
  assert.equal(client.requests.length, 1, "the next waits for the interval");
  const flushing = committer.flush();
  assert.equal(client.requests.length, 2, "flush does not wait for the interval");
  assert.deepEqual(client.requests[1]!.offsets, [
    { topic: "t", partition: 0, offset: "2" },
    { topic: "t", partition: 1, offset: "5" },
  ]);
  client.requests[1]!.answer();
  await flushing;
});

test("with a short interval, a waiting commit goes out by itself", async () => {
  const client = fakeClient();
  const committer = new OffsetCommitter(client, () => undefined, 20);
  committer.add("t", 0, 1);
  client.requests[0]!.answer();
  await tick();
  committer.add("t", 0, 3);
  assert.equal(client.requests.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(client.requests.length, 2);
  assert.deepEqual(client.requests[1]!.offsets, [{ topic: "t", partition: 0, offset: "3" }]);
});
