import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { policyDefaultsMarkdown } from "../../src/index.ts";

test("docs/decision.md carries the policy defaults table as the code has it", async () => {
  const doc = await readFile(new URL("../../../../docs/decision.md", import.meta.url), "utf8");
  assert.ok(doc.includes(policyDefaultsMarkdown().trim()), "regenerate the table in docs/decision.md from policyDefaultsMarkdown()");
});
