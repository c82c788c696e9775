import assert from "node:assert/strict";
import { test } from "node:test";
import { findEntryController } from "../src/index.ts";

test("config entries: consul-k8s's mark and another tool's managed-by are other writers; meshloop's and none are not", () => {
  assert.match(findEntryController({ Kind: "service-router", Name: "a", Meta: { "external-source": "kubernetes" } }) ?? "", /^written by consul-k8s/);
  assert.equal(findEntryController({ Kind: "service-router", Name: "a", Meta: { "managed-by": "terraform" } }), "managed by terraform (Meta managed-by); meshloop does not fight another writer");
  assert.equal(findEntryController({ Kind: "service-router", Name: "a", Meta: { "managed-by": "meshloop" } }), null);
  assert.equal(findEntryController({ Kind: "service-router", Name: "a" }), null);
  assert.equal(findEntryController(null), null);
});
