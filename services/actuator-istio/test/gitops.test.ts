import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { renderGitops, translateIstio } from "../src/index.ts";
import type { KubeWrite } from "../src/index.ts";
import { desiredStates, shuffledKeys } from "@meshloop/test-harness";
import { context, state } from "./fixtures.ts";

const DEPLOYMENT = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "checkout", namespace: "shop" } };

test("property: the same desired state gives byte-identical files, whatever the key and resource order", () => {
  fc.assert(
    fc.property(desiredStates("istio"), fc.integer(), (desired, seed) => {
      const ctx = context({ workload: DEPLOYMENT });
      const first = renderGitops(translateIstio(desired, ctx).resources);
      const again = renderGitops(translateIstio(structuredClone(desired), ctx).resources);
      assert.deepEqual(again, first);
      const reordered = translateIstio(desired, ctx).resources.reverse().map((w) => shuffledKeys(w, seed) as KubeWrite);
      assert.deepEqual(renderGitops(reordered), first);
      assert.deepEqual(first.files.map((f) => f.path), [...first.files.map((f) => f.path)].sort());
    }),
    { numRuns: 150 },
  );
});

test("a desired state that changes nothing renders nothing", () => {
  assert.deepEqual(renderGitops(translateIstio(state(), context()).resources), { files: [], deletions: [] });
});
