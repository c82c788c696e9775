import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { fromCloudEventMessage } from "@meshloop/contracts";
import { UnavailableError, ValidationError } from "@meshloop/errors";
import { authorize, controlCommand, controlMessage, parseControlRequest } from "../../src/http/control-request.ts";
import { payments } from "../support/fixtures.ts";
import { tokenFile } from "../support/console-harness.ts";

const TOKEN = "s3cret-token";

test("the bearer token authorises as the operator 'console'; a wrong or missing one is 401", () => {
  const auth = { tokenFile: tokenFile(TOKEN), trustForwardedUser: false };
  assert.deepEqual(authorize({ authorization: `Bearer ${TOKEN}` }, auth), { ok: true, operator: "console" });
  assert.deepEqual(authorize({ authorization: `bearer   ${TOKEN} ` }, auth), { ok: true, operator: "console" });
  for (const authorization of [undefined, "Bearer nope", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
    const outcome = authorize(authorization === undefined ? {} : { authorization }, auth);
    assert.equal(outcome.ok ? 200 : outcome.status, 401, String(authorization));
  }
  assert.deepEqual(authorize({ "x-forwarded-user": "mallory" }, auth).ok, false, "the header counts only when trusted");
});

test("a rotated token file is read on the next request; an empty one authorises nobody", () => {
  const file = tokenFile("old");
  const auth = { tokenFile: file, trustForwardedUser: false };
  writeFileSync(file, "new\n");
  assert.equal(authorize({ authorization: "Bearer new" }, auth).ok, true);
  writeFileSync(file, "\n");
  assert.equal(authorize({ authorization: "Bearer " }, auth).ok, false);
  assert.throws(() => authorize({ authorization: "Bearer x" }, auth), UnavailableError);
  assert.throws(() => authorize({ authorization: "Bearer x" }, { tokenFile: `${file}.missing`, trustForwardedUser: false }), /cannot be read \(ENOENT\)/);
});

test("behind a trusted proxy the forwarded user is the operator; without any auth configured control is 403", () => {
  const proxy = { trustForwardedUser: true };
  assert.deepEqual(authorize({ "x-forwarded-user": " alice@example.com " }, proxy), { ok: true, operator: "alice@example.com" });
  assert.deepEqual(authorize({}, proxy), { ok: false, status: 401, error: "no X-Forwarded-User: sign in through the console's proxy" });
  assert.deepEqual(authorize({ "x-forwarded-user": "a\u0007b" }, proxy).ok, false, "control characters are no user name");
  const none = authorize({ authorization: `Bearer ${TOKEN}` }, { trustForwardedUser: false });
  assert.deepEqual(none, { ok: false, status: 403, error: "no token configured: the console is read-only (set MESHLOOP_CONSOLE_TOKEN_FILE)" });
});

test("a request from another origin is refused; the console's own origin (also behind a proxy) passes", () => {
  const proxy = { trustForwardedUser: true };
  const user = { "x-forwarded-user": "alice" };
  assert.equal(authorize({ ...user, host: "console.example", origin: "https://evil.example" }, proxy).ok, false);
  assert.equal(authorize({ ...user, host: "console.example", origin: "null" }, proxy).ok, false);
  assert.equal(authorize({ ...user, host: "console.example", origin: "https://console.example" }, proxy).ok, true);
  assert.equal(authorize({ ...user, host: "10.0.0.7:9200", "x-forwarded-host": "console.example", origin: "https://console.example" }, proxy).ok, true);
});

test("approve and reject take their target from the decision id; freeze and unfreeze are global unless given one", () => {
  assert.deepEqual(parseControlRequest({ command: "approve", decisionId: "lab/lab/payments@42" }), { command: "approve", decisionId: "lab/lab/payments@42", target: payments });
  assert.deepEqual(parseControlRequest({ command: "reject", decisionId: "lab/lab/payments@42", target: "lab/lab/payments", reason: "  no " }), { command: "reject", decisionId: "lab/lab/payments@42", target: payments, reason: "no" });
  assert.deepEqual(parseControlRequest({ command: "freeze", reason: "" }), { command: "freeze" });
  assert.deepEqual(parseControlRequest({ command: "unfreeze", target: "lab/lab/payments" }), { command: "unfreeze", target: payments });
  for (const body of [null, [], "approve", { command: "release", target: "lab/lab/payments" }, { command: "freeze", decisionId: "lab/lab/payments@1" }, { command: "approve", decisionId: "lab/lab/payments@x" }, { command: "freeze", reason: "x".repeat(1001) }]) {
    assert.throws(() => parseControlRequest(body), (error: unknown) => error instanceof ValidationError && !error.message.includes("\n"), JSON.stringify(body));
  }
});

test("the command is the CLI's control event: same data fields, key = target or '*', the console as source", () => {
  const approve = controlCommand(parseControlRequest({ command: "approve", decisionId: "lab/lab/payments@42", reason: "ok" }), "alice", "cmd-1", new Date("2026-01-02T03:04:05.000Z"));
  assert.deepEqual(approve, { commandId: "cmd-1", command: "approve", operator: "alice", issuedAt: "2026-01-02T03:04:05.000Z", target: payments, decisionId: "lab/lab/payments@42", reason: "ok" });
  const message = controlMessage(approve);
  assert.equal(message.key, "lab/lab/payments");
  const event = fromCloudEventMessage(message, "dev.meshloop.control.v1");
  assert.deepEqual(event.data, approve);
  assert.equal(event.source, "/meshloop/console");
  assert.equal(event.id, "cmd-1");
  const freeze = controlMessage(controlCommand(parseControlRequest({ command: "freeze" }), "console", "cmd-2"));
  assert.equal(freeze.key, "*");
});
