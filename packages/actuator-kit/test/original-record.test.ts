import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalJson, ORIGINAL_ANNOTATION, originalAnnotation, planRestore, recordedFields, recordMerge, restorationNotes, restoreFields, setOriginalAnnotation } from "../src/index.ts";
import type { ObjectMeta, RecordUpdate } from "../src/index.ts";

function textOf(update: RecordUpdate): string | null {
  assert.ok(update.ok, update.ok ? "" : update.reason);
  return update.text;
}

test("canonical JSON sorts keys at every level and drops absent ones, so equal values give equal text", () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ y: 2, x: 1 }), canonicalJson({ x: 1, y: 2 }));
});

test("a first merge records the changed fields' found values, absent ones without an original; unchanged fields not at all", () => {
  const text = textOf(recordMerge(undefined, { route: [{ host: "a" }], timeout: undefined, retries: { attempts: 2 } }, { route: [{ host: "a", weight: 100 }], timeout: "2s", retries: { attempts: 2 } }));
  assert.ok(text !== null);
  const record = JSON.parse(text) as { version: number; fields: Record<string, { original?: unknown; written: string }> };
  assert.equal(record.version, 1);
  assert.deepEqual(Object.keys(record.fields), ["route", "timeout"], "retries were not changed, so not recorded");
  assert.deepEqual(record.fields.route!.original, [{ host: "a" }]);
  assert.equal("original" in record.fields.timeout!, false, "an absent field has no original");
  assert.equal(text, canonicalJson(record), "stored in canonical form");
});

test("a merge that changes nothing records nothing", () => {
  assert.equal(textOf(recordMerge(undefined, { timeout: "2s" }, { timeout: "2s" })), null);
});

test("later merges never overwrite an original; they add fields changed for the first time", () => {
  const first = textOf(recordMerge(undefined, { timeout: "30s" }, { timeout: "2s" }));
  const second = textOf(recordMerge(first!, { timeout: "2s", retries: { attempts: 1 } }, { timeout: "5s", retries: { attempts: 3 } }));
  const fields = (JSON.parse(second!) as { fields: Record<string, { original?: unknown }> }).fields;
  assert.equal(fields.timeout!.original, "30s", "the first value found stays the original");
  assert.deepEqual(recordedFields(second!), ["retries", "timeout"]);
  assert.deepEqual(fields.retries!.original, { attempts: 1 });
  // Released with the fields as meshloop last wrote them: both go back.
  assert.deepEqual(planRestore(second!, { timeout: "5s", retries: { attempts: 3 } }), {
    restore: [{ field: "retries", value: { attempts: 1 } }, { field: "timeout", value: "30s" }],
    kept: [],
    problem: null,
  });
});

test("a release restores what is as meshloop left it, keeps what someone changed since, and skips what is back already", () => {
  const text = textOf(recordMerge(undefined, { a: 1, b: undefined, c: "x" }, { a: 2, b: "set", c: "y" }));
  const plan = planRestore(text!, { a: 2, b: "theirs", c: "x" });
  assert.deepEqual(plan.restore, [{ field: "a", value: 1 }]);
  assert.deepEqual(plan.kept, ["b"]);
  assert.deepEqual(restorationNotes("VirtualService shop/checkout", plan), [
    "VirtualService shop/checkout: b changed since meshloop wrote it; kept as changed rather than restored to the original, and the record is removed",
  ]);
  // A field that was absent goes again; a field that cannot be located any more is kept, not guessed at.
  assert.deepEqual(planRestore(text!, { a: 2, b: "set" }), { restore: [{ field: "a", value: 1 }, { field: "b", value: undefined }], kept: ["c"], problem: null });
});

test("an unreadable record blocks merges and restores nothing on release, with the reason", () => {
  const merge = recordMerge("{not json", {}, { a: 1 });
  assert.equal(merge.ok, false);
  assert.match(merge.ok ? "" : merge.reason, /not JSON; meshloop cannot tell what to restore/);
  assert.deepEqual(recordedFields("{not json"), []);
  const plan = planRestore('{"version":7,"fields":{}}', { a: 1 });
  assert.deepEqual(plan.restore, []);
  assert.match(plan.problem ?? "", /not a version 1 record/);
  assert.match(restorationNotes("x", plan)[0]!, /nothing restored/);
  assert.match(planRestore('{"version":1,"fields":{"a":{"original":1}}}', { a: 1 }).problem ?? "", /no digest for a/);
});

test("the annotation is set and removed without disturbing the others; an emptied map goes", () => {
  const metadata: ObjectMeta = { name: "checkout", annotations: { team: "payments" } };
  setOriginalAnnotation(metadata, '{"version":1,"fields":{}}');
  assert.equal(originalAnnotation(metadata), '{"version":1,"fields":{}}');
  setOriginalAnnotation(metadata, null);
  assert.deepEqual(metadata, { name: "checkout", annotations: { team: "payments" } });
  const bare: ObjectMeta = { name: "checkout", annotations: { [ORIGINAL_ANNOTATION]: "{}" } };
  setOriginalAnnotation(bare, null);
  assert.deepEqual(bare, { name: "checkout" });
});

test("restoring through accessors: restorable fields are set, vetoed and unlocatable ones are left", () => {
  const text = textOf(recordMerge(undefined, { a: 1, b: undefined, c: "x" }, { a: 2, b: "set", c: "y" }))!;
  const object: Record<string, unknown> = { a: 2, b: "set" };
  const access = (key: string) => ({ get: () => object[key], set: (value: unknown) => (value === undefined ? delete object[key] : (object[key] = value)) });
  const result = restoreFields(text, new Map([["a", access("a")], ["b", access("b")]]), (field) => field === "b");
  assert.deepEqual(object, { a: 1, b: "set" }, "a restored; b vetoed");
  assert.deepEqual(result.restore, [{ field: "a", value: 1 }]);
  assert.deepEqual(result.kept, ["c"], "c could not be located");
  restoreFields(text, new Map([["b", access("b")]]));
  assert.deepEqual(object, { a: 1 }, "an absent original removes the field");
});
