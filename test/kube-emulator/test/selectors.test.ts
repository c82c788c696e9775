import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLabelSelector, StatusError } from "../src/index.ts";

describe("parseLabelSelector", () => {
  const labels = { app: "cart", version: "v2", tier: "web" };
  const cases: [string, boolean][] = [
    ["app=cart", true],
    ["app==cart", true],
    ["app!=cart", false],
    ["app=cart,version=v1", false],
    ["version in (v1, v2)", true],
    ["version notin (v1,v2)", false],
    ["tier", true],
    ["!tier", false],
    ["!missing,app in (cart),version notin (v3)", true],
    ["", true],
  ];
  for (const [selector, expected] of cases) {
    it(`"${selector}" ${expected ? "matches" : "does not match"}`, () => {
      assert.equal(parseLabelSelector(selector)(labels), expected);
    });
  }
  it("rejects a malformed key with a 400", () => {
    assert.throws(() => parseLabelSelector("a b=c"), (e) => e instanceof StatusError && e.code === 400);
  });
});
