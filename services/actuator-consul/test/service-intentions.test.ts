import assert from "node:assert/strict";
import { test } from "node:test";
import { translateConsul } from "../src/index.ts";
import type { ServiceIntentions } from "../src/index.ts";
import { context, EARLIER, LATER, OWNED_META, state, written } from "./fixtures.ts";

const CRAWLER = { identity: "spiffe://cluster.local/ns/shop/sa/crawler", service: "crawler", reason: "scraping", leaseExpiresAt: LATER };
const BATCH = { identity: "spiffe://consul.example/ns/default/dc/dc1/svc/batch", reason: "retry storm" };

function userIntentions(): ServiceIntentions {
  return {
    Kind: "service-intentions",
    Name: "checkout",
    Sources: [
      { Name: "web", Action: "allow" },
      { Name: "crawler", Action: "allow", Description: "indexing" },
      { Name: "*", Action: "allow" },
    ],
    ModifyIndex: 55,
  };
}

test("denied callers become deny sources; a caller's own allow is replaced and recorded for restoring", () => {
  const result = translateConsul(state({ deniedCallers: [CRAWLER, BATCH] }), context({ intentions: userIntentions() }));
  assert.deepEqual(written(result.resources, "service-intentions"), {
    cas: 55,
    entry: {
      Kind: "service-intentions",
      Name: "checkout",
      Sources: [
        { Name: "web", Action: "allow" },
        { Name: "*", Action: "allow" },
        { Name: "batch", Action: "deny", Description: "meshloop: retry storm" },
        { Name: "crawler", Action: "deny", Description: `meshloop: scraping (until ${LATER})` },
      ],
      Meta: { "meshloop-denied-batch": "absent", "meshloop-denied-crawler": JSON.stringify({ Name: "crawler", Action: "allow", Description: "indexing" }) },
    },
  });
});

test("ending the denials restores the user's sources exactly, and removes meshloop's", () => {
  const denied = written(translateConsul(state({ deniedCallers: [CRAWLER, BATCH] }), context({ intentions: userIntentions() })).resources, "service-intentions").entry as ServiceIntentions;
  const released = translateConsul(state(), context({ intentions: { ...denied, ModifyIndex: 56 } }));
  assert.deepEqual(written(released.resources, "service-intentions"), {
    cas: 56,
    entry: {
      Kind: "service-intentions",
      Name: "checkout",
      Sources: [
        { Name: "web", Action: "allow" },
        { Name: "*", Action: "allow" },
        { Name: "crawler", Action: "allow", Description: "indexing" },
      ],
    },
  });
});

test("a denial whose lease expired is ended without a newer decision; the same denial again writes nothing", () => {
  const denied = written(translateConsul(state({ deniedCallers: [CRAWLER] }), context({ intentions: userIntentions() })).resources, "service-intentions").entry as ServiceIntentions;
  assert.deepEqual(translateConsul(state({ deniedCallers: [CRAWLER] }), context({ intentions: denied })).resources, []);
  const expired = translateConsul(state({ deniedCallers: [{ ...CRAWLER, leaseExpiresAt: EARLIER }] }), context({ intentions: denied }));
  const sources = (written(expired.resources, "service-intentions").entry as ServiceIntentions).Sources;
  assert.deepEqual(sources?.find((s) => s.Name === "crawler"), { Name: "crawler", Action: "allow", Description: "indexing" });
});

test("with no intentions entry meshloop creates its own, and deletes it once no one is denied", () => {
  const created = translateConsul(state({ deniedCallers: [CRAWLER] }), context());
  const { entry, cas } = written(created.resources, "service-intentions");
  assert.equal(cas, 0);
  assert.deepEqual(entry, {
    Kind: "service-intentions",
    Name: "checkout",
    Meta: { ...OWNED_META, "meshloop-denied-crawler": "absent" },
    Sources: [{ Name: "crawler", Action: "deny", Description: `meshloop: scraping (until ${LATER})` }],
  });
  assert.deepEqual(translateConsul(state(), context({ intentions: { ...(entry as ServiceIntentions), ModifyIndex: 3 } })).resources, [
    { action: "delete", ref: { kind: "service-intentions", name: "checkout" }, cas: 3 },
  ]);
});

test("a caller with no Consul service name is unsupported for that caller; the others are denied", () => {
  const anonymous = { identity: "spiffe://cluster.local/ns/shop/sa/scraper", reason: "scraping" };
  const result = translateConsul(state({ deniedCallers: [anonymous, CRAWLER] }), context());
  assert.deepEqual(result.unsupported, [{ capability: "denyCaller", reason: "spiffe://cluster.local/ns/shop/sa/scraper names no Consul service (give the caller's service, or a Consul SPIFFE id)" }]);
  assert.deepEqual((written(result.resources, "service-intentions").entry as ServiceIntentions).Sources?.map((s) => s.Name), ["crawler"]);
});

test("a user's own deny of the caller is left as it is and not recorded as meshloop's", () => {
  const user = { ...userIntentions(), Sources: [{ Name: "crawler", Action: "deny" as const, Description: "banned" }] };
  assert.deepEqual(translateConsul(state({ deniedCallers: [CRAWLER] }), context({ intentions: user })).resources, []);
});
