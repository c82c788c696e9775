import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ConsulApiError, ConsulClient } from "../../src/index.ts";
import type { ConsulLogger } from "../../src/index.ts";
import { ConsulEmulator } from "../consul-emulator/emulator.ts";

const TOKEN = "b1gs3cr3t-token-value";

let emulator: ConsulEmulator;
let dir: string;
let tokenFile: string;
before(async () => {
  emulator = await ConsulEmulator.start({ tokens: { [TOKEN]: "write", "read-only-token": "read" } });
  dir = await mkdtemp(join(tmpdir(), "consul-client-"));
  tokenFile = join(dir, "token");
  await writeFile(tokenFile, `${TOKEN}\n`);
});
after(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

function recordingLogger(): { logger: ConsulLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (object: Record<string, unknown>, message: string): void => {
    lines.push(JSON.stringify({ ...object, message }));
  };
  return { logger: { debug: log, warn: log }, lines };
}

test("getEntry: null for 404, the entry with its indexes otherwise; the token goes in X-Consul-Token", async () => {
  const client = new ConsulClient({ address: emulator.address, tokenFile });
  assert.equal(await client.getEntry("service-resolver", "nothing-here"), null);
  emulator.put({ Kind: "service-resolver", Name: "get-a", ConnectTimeout: "5s" });
  const entry = await client.getEntry("service-resolver", "get-a");
  assert.equal(entry?.ModifyIndex, emulator.index);
  assert.equal(entry?.CreateIndex, emulator.index);
  assert.deepEqual(emulator.requests.at(-1)?.token, TOKEN);
});

test("putEntry: without cas writes; cas 0 creates only; a moved index answers false; the body carries no indexes", async () => {
  const client = new ConsulClient({ address: emulator.address, tokenFile });
  assert.equal(await client.putEntry({ Kind: "service-defaults", Name: "put-a", Protocol: "http" } as never), true);
  assert.equal(await client.putEntry({ Kind: "service-defaults", Name: "put-a" }, { cas: 0 }), false, "cas 0 on an existing entry");
  const read = (await client.getEntry("service-defaults", "put-a"))!;
  emulator.put({ ...read, Meta: { owner: "them" } });
  assert.equal(await client.putEntry({ ...read, Protocol: "grpc" } as never, { cas: read.ModifyIndex }), false, "the index moved");
  const again = (await client.getEntry("service-defaults", "put-a"))!;
  assert.equal(await client.putEntry({ ...again, Protocol: "grpc" } as never, { cas: again.ModifyIndex }), true);
  const last = emulator.requests.at(-1)!;
  assert.deepEqual([last.method, last.query.cas], ["PUT", String(again.ModifyIndex)]);
  assert.equal((last.body as Record<string, unknown>).ModifyIndex, undefined);
  assert.equal((last.body as Record<string, unknown>).CreateIndex, undefined);
  assert.equal(emulator.get("service-defaults", "put-a")!.Protocol, "grpc");
});

test("deleteEntry with cas, and listEntries", async () => {
  const client = new ConsulClient({ address: emulator.address, tokenFile });
  const stored = emulator.put({ Kind: "service-router", Name: "del-a" });
  assert.equal(await client.deleteEntry({ kind: "service-router", name: "del-a" }, { cas: stored.ModifyIndex! - 1 }), false);
  assert.equal(await client.deleteEntry({ kind: "service-router", name: "del-a" }, { cas: stored.ModifyIndex! }), true);
  assert.equal(emulator.get("service-router", "del-a"), undefined);
  assert.equal(await client.deleteEntry({ kind: "service-router", name: "del-a" }), true);
  emulator.put({ Kind: "service-intentions", Name: "list-a", Sources: [] });
  assert.ok((await client.listEntries("service-intentions")).some((e) => e.Name === "list-a"));
});

test("Enterprise namespace and partition go as ns and partition: the entry's own, else the client's default", async () => {
  const client = new ConsulClient({ address: emulator.address, tokenFile, namespace: "team-a", partition: "p1" });
  assert.equal(await client.putEntry({ Kind: "service-defaults", Name: "ent-a", Protocol: "http" } as never, { cas: 0 }), true);
  assert.deepEqual(emulator.requests.at(-1)!.query, { ns: "team-a", partition: "p1", cas: "0" });
  assert.notEqual(emulator.get("service-defaults", "ent-a", { namespace: "team-a", partition: "p1" }), undefined);
  assert.equal(await client.getEntry("service-defaults", "ent-a", { namespace: "team-b" }), null);
  assert.deepEqual(emulator.requests.at(-1)!.query, { ns: "team-b", partition: "p1" });
});

test("no token: a 403 that is not retriable and says no token was sent", async () => {
  const client = new ConsulClient({ address: emulator.address });
  const error = await client.getEntry("service-defaults", "x").then(() => null, (e: unknown) => e);
  assert.ok(error instanceof ConsulApiError);
  assert.equal(error.retriable, false);
  assert.equal(error.status, 403);
  assert.match(error.message, /403.*Permission denied.*no ACL token was sent/);
  assert.deepEqual([error.context.kind, error.context.name, error.context.status], ["service-defaults", "x", 403]);
});

test("the token never appears in errors or logs, even when the server echoes it back", async () => {
  const { logger, lines } = recordingLogger();
  const client = new ConsulClient({ address: emulator.address, tokenFile, logger });
  emulator.failNext(500, { body: `internal error handling token ${TOKEN}` });
  const error = await client.getEntry("service-defaults", "x").then(() => null, (e: unknown) => e);
  assert.ok(error instanceof ConsulApiError);
  assert.equal(error.retriable, true);
  assert.match(error.message, /\[redacted\]/);
  assert.equal(JSON.stringify({ message: error.message, context: error.context, stack: error.stack }).includes(TOKEN), false);
  await client.getEntry("service-defaults", "x");
  assert.ok(lines.length >= 2, "requests are logged");
  assert.equal(lines.join("\n").includes(TOKEN), false);
});

test("a read-only token's write is a permanent 403 naming the permission needed", async () => {
  const readOnly = join(dir, "read-only");
  await writeFile(readOnly, "read-only-token");
  const client = new ConsulClient({ address: emulator.address, tokenFile: readOnly });
  await assert.rejects(client.putEntry({ Kind: "service-defaults", Name: "ro" }), (e: unknown) => e instanceof ConsulApiError && !e.retriable && /lacks the permission \(service:write/.test(e.message));
});

test("a rotated token file is used at the next request; an unreadable one is a clear non-retriable error", async () => {
  const rotating = join(dir, "rotating");
  await writeFile(rotating, "not-a-token");
  const client = new ConsulClient({ address: emulator.address, tokenFile: rotating });
  await assert.rejects(client.getEntry("service-defaults", "x"), /ACL not found/);
  await writeFile(rotating, TOKEN);
  assert.equal(await client.getEntry("service-defaults", "x"), null);
  const missing = new ConsulClient({ address: emulator.address, tokenFile: join(dir, "absent") });
  await assert.rejects(missing.getEntry("service-defaults", "x"), (e: unknown) => e instanceof ConsulApiError && !e.retriable && /cannot read the Consul ACL token file .*absent: ENOENT/.test(e.message));
});

test("5xx and 429 are retriable, 400 is not; a dropped connection is retriable", async () => {
  const client = new ConsulClient({ address: emulator.address, tokenFile });
  for (const [status, retriable] of [[503, true], [429, true], [400, false]] as const) {
    emulator.failNext(status, { body: "nope" });
    await assert.rejects(client.getEntry("service-defaults", "x"), (e: unknown) => e instanceof ConsulApiError && e.retriable === retriable && e.status === status);
  }
  emulator.failNext(0);
  await assert.rejects(client.getEntry("service-defaults", "x"), (e: unknown) => e instanceof ConsulApiError && e.retriable && e.status === undefined);
  await assert.rejects(
    client.putEntry({ Kind: "service-splitter", Name: "bad", Splits: [{ Weight: 50 }] } as never),
    (e: unknown) => e instanceof ConsulApiError && !e.retriable && e.status === 400 && /must be 100/.test(e.message) && e.context.kind === "service-splitter",
  );
});

test("leader: the Raft leader's address, \"\" without a leader; a caller's abort ends the request", async () => {
  const client = new ConsulClient({ address: emulator.address, tokenFile });
  assert.equal(await client.leader(), "127.0.0.1:8300");
  assert.deepEqual([emulator.requests.at(-1)?.method, emulator.requests.at(-1)?.path], ["GET", "/v1/status/leader"]);
  emulator.leader = "";
  try {
    assert.equal(await client.leader(), "");
  } finally {
    emulator.leader = "127.0.0.1:8300";
  }
  emulator.failNext(503, { body: "No cluster leader" });
  await assert.rejects(client.leader(), (e: unknown) => e instanceof ConsulApiError && e.retriable && e.status === 503 && /No cluster leader/.test(e.message));
  await assert.rejects(client.leader({ signal: AbortSignal.abort() }), (e: unknown) => e instanceof ConsulApiError && e.retriable && /aborted/i.test(e.message));
});
