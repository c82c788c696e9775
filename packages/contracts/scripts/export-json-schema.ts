// Writes schemas/*.schema.json from the zod schemas; run after changing a contract (test/json-schema.test.ts fails
// until the files match): `pnpm --filter @meshloop/contracts schemas`.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonSchemaFiles } from "../src/json-schema.ts";

const dir = join(import.meta.dirname, "..", "schemas");
mkdirSync(dir, { recursive: true });
const files = jsonSchemaFiles();
const names = new Set(files.map((f) => f.fileName));
for (const stale of readdirSync(dir).filter((f) => f.endsWith(".schema.json") && !names.has(f))) {
  rmSync(join(dir, stale));
  console.log(`removed ${stale}`);
}
for (const file of files) {
  writeFileSync(join(dir, file.fileName), file.content);
  console.log(`wrote schemas/${file.fileName}`);
}
