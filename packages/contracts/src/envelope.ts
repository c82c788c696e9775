import { ValidationError } from "@meshloop/errors";
import { z } from "zod";
import { partialAggregateSchema, progressMarkSchema, windowAggregateSchema } from "./aggregates.ts";
import { gaugeBatchSchema } from "./gauges.ts";
import { acceptedTypes, parseOrThrow, utf8Text } from "./validation.ts";

/**
 * The versioned JSON envelope around every non-CloudEvents meshloop payload. `version` moves when the data's meaning
 * changes incompatibly; a reader rejects versions it does not know rather than misreading them.
 */
export const ENVELOPE_VERSION = 1;

export const envelopeDataSchemas = {
  "meshloop.partial": partialAggregateSchema,
  "meshloop.progress": progressMarkSchema,
  "meshloop.aggregate": windowAggregateSchema,
  "meshloop.gauges": gaugeBatchSchema,
} as const;

export type EnvelopeType = keyof typeof envelopeDataSchemas;
export const ENVELOPE_TYPES = Object.keys(envelopeDataSchemas) as EnvelopeType[];
export type EnvelopeData<T extends EnvelopeType> = z.output<(typeof envelopeDataSchemas)[T]>;
export type EnvelopeDataInput<T extends EnvelopeType> = z.input<(typeof envelopeDataSchemas)[T]>;

/** A decoded envelope; with the type parameter left open, a union narrowable by `type`. */
export type Envelope<T extends EnvelopeType = EnvelopeType> = {
  [K in T]: { type: K; version: typeof ENVELOPE_VERSION; id: string; data: EnvelopeData<K> };
}[T];

/** The whole envelope of one type as a schema (for JSON Schema export). */
export function envelopeSchema<T extends EnvelopeType>(type: T) {
  return z.object({
    type: z.literal(type),
    version: z.literal(ENVELOPE_VERSION),
    id: z.string().min(1),
    data: envelopeDataSchemas[type],
  });
}

// The envelope id is the payload's own deterministic id, so a re-emitted message can be recognised without its data.
function idOf(data: Record<string, unknown>): string {
  return String(data["id"]);
}

/** Validates `data` and serialises it in an envelope; a payload that would be rejected downstream is never sent. */
export function encodeEnvelope<T extends EnvelopeType>(type: T, data: EnvelopeDataInput<T>): Buffer {
  const schema = envelopeDataSchemas[type] as z.ZodType;
  const parsed = parseOrThrow(schema, data, `${type} data`, { type }) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ type, version: ENVELOPE_VERSION, id: idOf(parsed), data: parsed }));
}

/** Parses and validates an envelope; `expected` restricts the accepted types (a topic carries only some). */
export function decodeEnvelope<T extends EnvelopeType = EnvelopeType>(
  value: Uint8Array | string,
  expected?: T | readonly T[],
): Envelope<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(utf8Text(value));
  } catch (error) {
    throw new ValidationError(`envelope is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const head = z.object({ type: z.string(), version: z.unknown(), id: z.unknown() }).safeParse(raw);
  if (!head.success) throw new ValidationError("envelope is not an object with a string type");
  const { type, version } = head.data;
  const context = { type };
  if (!Object.hasOwn(envelopeDataSchemas, type)) {
    throw new ValidationError(`unknown envelope type "${type}" (known: ${ENVELOPE_TYPES.join(", ")})`, { context });
  }
  const accepted = acceptedTypes(expected, ENVELOPE_TYPES);
  if (!accepted.includes(type)) {
    throw new ValidationError(`expected envelope type ${accepted.join(" or ")}, got ${type}`, { context });
  }
  if (version !== ENVELOPE_VERSION) {
    const shown = JSON.stringify(version);
    throw new ValidationError(`unsupported ${type} envelope version ${shown} (this build reads ${ENVELOPE_VERSION})`, {
      context,
    });
  }
  const envelope = parseOrThrow(envelopeSchema(type as EnvelopeType), raw, `${type} envelope`, context) as Envelope;
  const dataId = idOf(envelope.data);
  if (envelope.id !== dataId) {
    throw new ValidationError(`${type} envelope id ${envelope.id} is not its data's id ${dataId}`, {
      context: { type, id: envelope.id },
    });
  }
  return envelope as Envelope<T>;
}
