import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ConsulEmulator } from "./emulator.ts";

// The emulator on its own, through plain fetch: if it were wrong, the client's and the apply step's tests would prove
// nothing about Consul.

let emulator: ConsulEmulator;
before(async () => {
  emulator = await ConsulEmulator.start({ tokens: { writer: "write", reader: "read" } });
});
after(async () => {
  await emulator.close();
});

async function call(method: string, path: string, options: { body?: unknown; token?: string | null } = {}): Promise<{ status: number; text: string; index: string | null }> {
  const token = options.token === undefined ? "writer" : options.token;
  const response = await fetch(`${emulator.address}${path}`, {
    method,
    headers: token === null ? {} : { "X-Consul-Token": token },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: response.status, text: await response.text(), index: response.headers.get("x-consul-index") };
}

test("one Raft index for the store: every write moves it; CreateIndex stays, ModifyIndex follows", async () => {
  const start = emulator.index;
  assert.deepEqual(await call("PUT", "/v1/config", { body: { Kind: "service-defaults", Name: "raft-a", Protocol: "http" } }), { status: 200, text: "true", index: String(start + 1) });
  assert.equal((await call("PUT", "/v1/config", { body: { Kind: "service-defaults", Name: "raft-b", Protocol: "http" } })).text, "true");
  assert.equal((await call("PUT", "/v1/config", { body: { Kind: "service-defaults", Name: "raft-a", Protocol: "grpc" } })).text, "true");
  const read = await call("GET", "/v1/config/service-defaults/raft-a");
  assert.equal(read.status, 200);
  assert.equal(read.index, String(start + 3));
  const entry = JSON.parse(read.text) as Record<string, unknown>;
  assert.deepEqual(entry, { Kind: "service-defaults", Name: "raft-a", Protocol: "grpc", CreateIndex: start + 1, ModifyIndex: start + 3 });
});

test("cas: 0 creates only; a stale index answers false with HTTP 200 and changes nothing; the current index writes", async () => {
  const entry = { Kind: "service-defaults", Name: "cas-a", Protocol: "http" };
  assert.equal((await call("PUT", "/v1/config?cas=0", { body: entry })).text, "true");
  const created = emulator.get("service-defaults", "cas-a")!;
  const indexBefore = emulator.index;
  assert.deepEqual(await call("PUT", "/v1/config?cas=0", { body: { ...entry, Protocol: "tcp" } }).then((r) => [r.status, r.text]), [200, "false"]);
  assert.deepEqual(await call("PUT", `/v1/config?cas=${created.ModifyIndex! - 1}`, { body: { ...entry, Protocol: "tcp" } }).then((r) => [r.status, r.text]), [200, "false"]);
  assert.equal(emulator.index, indexBefore, "a refused check-and-set is not a write");
  assert.equal(emulator.get("service-defaults", "cas-a")!.Protocol, "http");
  assert.equal((await call("PUT", `/v1/config?cas=${created.ModifyIndex}`, { body: { ...entry, Protocol: "grpc" } })).text, "true");
  assert.equal(emulator.get("service-defaults", "cas-a")!.Protocol, "grpc");
  assert.equal((await call("PUT", "/v1/config?cas=abc", { body: entry })).status, 400);
});

test("DELETE: with a stale cas false, with the current one true; a missing entry 404s on GET", async () => {
  emulator.put({ Kind: "service-defaults", Name: "del-a", Protocol: "http" });
  const stored = emulator.get("service-defaults", "del-a")!;
  assert.equal((await call("DELETE", `/v1/config/service-defaults/del-a?cas=${stored.ModifyIndex! - 1}`)).text, "false");
  assert.notEqual(emulator.get("service-defaults", "del-a"), undefined);
  assert.equal((await call("DELETE", `/v1/config/service-defaults/del-a?cas=${stored.ModifyIndex}`)).text, "true");
  const missing = await call("GET", "/v1/config/service-defaults/del-a");
  assert.deepEqual([missing.status, missing.text], [404, 'Config entry not found for "service-defaults" / "del-a"']);
  assert.equal((await call("DELETE", "/v1/config/service-defaults/del-a")).text, "true", "an unconditional delete of nothing succeeds");
  assert.equal((await call("DELETE", "/v1/config/service-defaults/del-a?cas=5")).text, "false");
});

test("GET /v1/config/:kind lists that kind in that scope only", async () => {
  emulator.put({ Kind: "service-router", Name: "list-a" }, { namespace: "team-list" });
  emulator.put({ Kind: "service-defaults", Name: "list-b", Protocol: "http" }, { namespace: "team-list" });
  emulator.put({ Kind: "service-defaults", Name: "list-c", Protocol: "http" }, { namespace: "team-list", partition: "other" });
  const list = JSON.parse((await call("GET", "/v1/config/service-defaults?ns=team-list")).text) as { Name: string }[];
  assert.deepEqual(list.map((e) => e.Name), ["list-b"]);
  assert.equal((await call("GET", "/v1/config/service-defaults/list-c?ns=team-list")).status, 404);
  assert.equal((await call("GET", "/v1/config/service-defaults/list-c?ns=team-list&partition=other")).status, 200);
});

test("ACLs: no token, an unknown token and a read-only token's write are 403", async () => {
  const body = { Kind: "service-defaults", Name: "acl-a", Protocol: "http" };
  assert.deepEqual(await call("PUT", "/v1/config", { body, token: null }).then((r) => [r.status, r.text]), [403, "Permission denied: anonymous token lacks permission 'service:write'"]);
  assert.deepEqual(await call("PUT", "/v1/config", { body, token: "nope" }).then((r) => [r.status, r.text]), [403, "ACL not found"]);
  assert.equal((await call("PUT", "/v1/config", { body, token: "reader" })).status, 403);
  assert.equal((await call("GET", "/v1/config/service-defaults/acl-a", { token: "reader" })).status, 404);
  assert.equal((await call("GET", "/v1/config/service-defaults/acl-a", { token: null })).status, 403);
  assert.equal(emulator.get("service-defaults", "acl-a"), undefined);
});

test("validation: Kind and Name required, weights summing to 100, the discovery chain's protocol and subsets", async () => {
  assert.match((await call("PUT", "/v1/config", { body: { Name: "x" } })).text, /does not contain a Kind key/);
  assert.match((await call("PUT", "/v1/config", { body: { Kind: "service-defaults" } })).text, /Name is required/);
  assert.equal((await call("PUT", "/v1/config", { body: "not an object" })).status, 400);
  emulator.put({ Kind: "service-defaults", Name: "chain", Protocol: "http" });
  const splitter = { Kind: "service-splitter", Name: "chain", Splits: [{ Weight: 90.5, ServiceSubset: "v1" }, { Weight: 9.5, ServiceSubset: "v2" }] };
  assert.match((await call("PUT", "/v1/config", { body: splitter })).text, /does not have a subset named "v1"/);
  emulator.put({ Kind: "service-resolver", Name: "chain", Subsets: { v1: { Filter: "Service.Meta.version == v1" }, v2: { Filter: "Service.Meta.version == v2" } } });
  assert.match((await call("PUT", "/v1/config", { body: { ...splitter, Splits: [{ Weight: 90, ServiceSubset: "v1" }, { Weight: 9, ServiceSubset: "v2" }] } })).text, /must be 100, not 99/);
  assert.equal((await call("PUT", "/v1/config", { body: splitter })).text, "true", "float weights summing to 100 are accepted");
  // The chain is checked on every write: the resolver cannot drop a subset the splitter uses, nor the service go tcp.
  const problem = await call("PUT", "/v1/config", { body: { Kind: "service-resolver", Name: "chain", Subsets: { v1: {} } } });
  assert.deepEqual([problem.status, /subset named "v2"/.test(problem.text)], [400, true]);
  assert.match((await call("PUT", "/v1/config", { body: { Kind: "service-defaults", Name: "chain", Protocol: "tcp" } })).text, /protocol "tcp"/);
  assert.equal(emulator.get("service-defaults", "chain")!.Protocol, "http", "a rejected write is rolled back");
});

test("injected failures: a 500 for the next request(s), a dropped connection, then normal service", async () => {
  emulator.failNext(500, { times: 2, method: "PUT" });
  const body = { Kind: "service-defaults", Name: "fail-a", Protocol: "http" };
  assert.equal((await call("GET", "/v1/config/service-defaults/fail-a")).status, 404, "the failure is only for PUT");
  assert.equal((await call("PUT", "/v1/config", { body })).status, 500);
  assert.equal((await call("PUT", "/v1/config", { body })).status, 500);
  assert.equal((await call("PUT", "/v1/config", { body })).text, "true");
  emulator.failNext(0);
  await assert.rejects(call("GET", "/v1/config/service-defaults/fail-a"));
  assert.equal((await call("GET", "/v1/config/service-defaults/fail-a")).status, 200);
});

test("beforeNextWrite runs another writer's change between a client's read and its write", async () => {
  emulator.put({ Kind: "service-defaults", Name: "race", Protocol: "http" });
  const read = emulator.get("service-defaults", "race")!;
  emulator.beforeNextWrite(() => {
    emulator.put({ Kind: "service-defaults", Name: "race", Protocol: "http", Meta: { owner: "team" } });
  });
  assert.equal((await call("PUT", `/v1/config?cas=${read.ModifyIndex}`, { body: { Kind: "service-defaults", Name: "race", Protocol: "grpc" } })).text, "false");
  assert.deepEqual(emulator.get("service-defaults", "race")!.Meta, { owner: "team" });
});

test("GET /v1/status/leader answers the leader as a JSON string, without an ACL check; \"\" when there is none", async () => {
  assert.deepEqual(await call("GET", "/v1/status/leader", { token: null }), { status: 200, text: '"127.0.0.1:8300"', index: String(emulator.index) });
  emulator.leader = "";
  try {
    assert.equal((await call("GET", "/v1/status/leader")).text, '""');
  } finally {
    emulator.leader = "127.0.0.1:8300";
  }
});
