import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { jsonSchemaFiles } from "../src/index.ts";

const dir = new URL("../schemas/", import.meta.url);

test("the checked-in JSON Schemas match the zod schemas (run `pnpm schemas` after changing a contract)", () => {
  const files = jsonSchemaFiles();
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith(".schema.json")).sort(),
    files.map((f) => f.fileName).sort(),
  );
  for (const file of files) {
    assert.equal(readFileSync(new URL(file.fileName, dir), "utf8"), file.content, `schemas/${file.fileName} is stale`);
  }
});

test("there is a schema per message type, and each describes its fields", () => {
  const names = jsonSchemaFiles().map((f) => f.fileName);
  const types = ["meshloop.partial.v1", "meshloop.aggregate.v1", "dev.meshloop.decision.v1", "dev.meshloop.pause.v1"];
  for (const type of types) assert.ok(names.includes(`${type}.schema.json`), type);
  const file = jsonSchemaFiles().find((f) => f.fileName === "dev.meshloop.decision.v1.schema.json")!;
  const decision = JSON.parse(file.content) as {
    required: string[];
    properties: Record<string, unknown>;
  };
  assert.ok(decision.required.includes("desiredState") && decision.required.includes("generation"));
  assert.deepEqual((decision.properties["generation"] as { type: string }).type, "integer");
});
