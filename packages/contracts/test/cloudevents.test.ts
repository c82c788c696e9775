import assert from "node:assert/strict";
import { test } from "node:test";
import { ValidationError } from "@meshloop/errors";
import { fromCloudEventMessage, GLOBAL_SUBJECT, toCloudEventMessage } from "../src/index.ts";
import type { CloudEventMessage, IncomingMessage } from "../src/index.ts";
import { actuation, command, decision } from "./fixtures.ts";

function decisionMessage(): CloudEventMessage {
  return toCloudEventMessage({
    type: "dev.meshloop.decision.v1",
    id: "d-1",
    source: "/meshloop/decision",
    time: new Date("2025-05-01T12:00:00Z"),
    data: decision(),
  });
}

function rejects(message: IncomingMessage, pattern: RegExp): void {
  assert.throws(
    () => fromCloudEventMessage(message),
    (e: unknown) => e instanceof ValidationError && pattern.test(e.message),
  );
}

// As a consumer sees it: every header a Buffer.
function consumed(message: CloudEventMessage): IncomingMessage {
  return {
    key: Buffer.from(message.key),
    value: message.value,
    headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, Buffer.from(v)])),
  };
}

test("a decision becomes a binary-mode message keyed by its target", () => {
  const message = decisionMessage();
  assert.equal(message.key, "istio/shop/checkout");
  assert.deepEqual(message.headers, {
    ce_specversion: "1.0",
    ce_id: "d-1",
    ce_source: "/meshloop/decision",
    ce_type: "dev.meshloop.decision.v1",
    ce_time: "2025-05-01T12:00:00.000Z",
    ce_subject: "istio/shop/checkout",
    "content-type": "application/json",
  });
  assert.deepEqual(JSON.parse(message.value.toString("utf8")), decision());
});

test("decision and actuation events round-trip through Buffers", () => {
  const event = fromCloudEventMessage(consumed(decisionMessage()), "dev.meshloop.decision.v1");
  assert.equal(event.type, "dev.meshloop.decision.v1");
  assert.equal(event.subject, "istio/shop/checkout");
  assert.deepEqual(event.data, decision());
  const result = toCloudEventMessage({
    type: "dev.meshloop.actuation.v1",
    id: "a-1",
    source: "/meshloop/actuator/istio",
    time: "2025-05-01T12:00:02Z",
    dataschema: "https://example.test/actuation.json",
    data: actuation(),
  });
  const back = fromCloudEventMessage(consumed(result));
  assert.ok(back.type === "dev.meshloop.actuation.v1" && back.data.status === "applied");
  assert.equal(back.dataschema, "https://example.test/actuation.json");
});

test("a global freeze has the global subject and key", () => {
  const message = toCloudEventMessage({
    type: "dev.meshloop.control.v1",
    id: "c-9",
    source: "/meshloop/cli",
    data: command({ command: "freeze", target: undefined, decisionId: undefined }),
  });
  assert.equal(message.key, GLOBAL_SUBJECT);
  const event = fromCloudEventMessage(message, ["dev.meshloop.control.v1", "dev.meshloop.pause.v1"]);
  assert.equal(event.subject, "*");
});

test("producing refuses invalid data and a subject that is not the data's target", () => {
  const approveWithout = command({ decisionId: undefined });
  assert.throws(
    () => toCloudEventMessage({ type: "dev.meshloop.control.v1", id: "c", source: "/x", data: approveWithout }),
    /invalid dev\.meshloop\.control\.v1 data: decisionId: approve needs a decisionId/,
  );
  const subject = "istio/shop/cart";
  assert.throws(
    () => toCloudEventMessage({ type: "dev.meshloop.decision.v1", id: "d", source: "/x", subject, data: decision() }),
    /subject istio\/shop\/cart does not match the data's target istio\/shop\/checkout/,
  );
});

test("consuming names the missing or wrong attribute", () => {
  const good = decisionMessage();
  const without = (name: string): IncomingMessage => ({ ...good, headers: { ...good.headers, [name]: undefined } });
  const withHeader = (name: string, value: string | string[]): IncomingMessage => ({
    ...good,
    headers: { ...good.headers, [name]: value },
  });
  rejects(without("ce_id"), /^missing header ce_id$/);
  rejects(without("ce_source"), /^missing header ce_source$/);
  rejects(without("content-type"), /^missing header content-type$/);
  rejects(withHeader("ce_specversion", "0.3"), /unsupported CloudEvents specversion "0\.3" \(expected 1\.0\)/);
  rejects(withHeader("ce_type", "dev.meshloop.nope.v1"), /unknown ce_type "dev\.meshloop\.nope\.v1"/);
  rejects(withHeader("ce_type", "constructor"), /unknown ce_type "constructor"/);
  rejects(withHeader("ce_time", "May 1st"), /header ce_time "May 1st" is not RFC 3339/);
  rejects(withHeader("content-type", "text/plain"), /header content-type is text\/plain, expected application\/json/);
  rejects(withHeader("ce_id", ["a", "b"]), /header ce_id appears 2 times/);
  rejects(
    withHeader("ce_subject", "istio/shop/cart"),
    /message key istio\/shop\/checkout does not match ce_subject istio\/shop\/cart/,
  );
  rejects(
    { ...good, key: "istio/shop/cart", headers: { ...good.headers, ce_subject: "istio/shop/cart" } },
    /ce_subject istio\/shop\/cart does not match the data's target istio\/shop\/checkout/,
  );
  rejects({ ...good, value: Buffer.from("{") }, /dev\.meshloop\.decision\.v1 body is not JSON/);
  rejects(
    { ...good, value: Buffer.from(JSON.stringify({ ...decision(), generation: 0 })) },
    /^invalid dev\.meshloop\.decision\.v1 data: generation: /,
  );
  assert.throws(
    () => fromCloudEventMessage(good, "dev.meshloop.actuation.v1"),
    /expected ce_type dev\.meshloop\.actuation\.v1, got dev\.meshloop\.decision\.v1/,
  );
});
