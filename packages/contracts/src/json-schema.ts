import { z } from "zod";
import { CLOUD_EVENT_TYPES, cloudEventDataSchemas } from "./cloudevents.ts";
import { ENVELOPE_TYPES, envelopeSchema } from "./envelope.ts";

/**
 * JSON Schema (draft 2020-12) of every message on the loop's JSON topics, for tools outside TypeScript. Envelope
 * messages are described whole; CloudEvents by their body (the attributes travel in headers). The schemas describe
 * what a reader accepts (`io: "input"`: defaulted fields are optional). Cross-field rules (weights summing to 100,
 * approve needing a decisionId, deterministic ids) are not expressible here; the zod schemas enforce them.
 */
export interface JsonSchemaFile {
  /** File name under packages/contracts/schemas. */
  fileName: string;
  /** The file's exact content, so that the checked-in copy can be compared byte for byte. */
  content: string;
}

export function jsonSchemaFiles(): JsonSchemaFile[] {
  const files: JsonSchemaFile[] = [];
  for (const type of ENVELOPE_TYPES) {
    files.push(render(`${type}.v1`, `${type} envelope, version 1`, envelopeSchema(type)));
  }
  for (const type of CLOUD_EVENT_TYPES) {
    files.push(render(type, `${type} CloudEvent data`, cloudEventDataSchemas[type]));
  }
  return files;
}

function render(name: string, title: string, schema: z.ZodType): JsonSchemaFile {
  const json = { title, ...z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) };
  return { fileName: `${name}.schema.json`, content: `${JSON.stringify(json, null, 2)}\n` };
}
