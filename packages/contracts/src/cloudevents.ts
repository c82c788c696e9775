import { ValidationError } from "@meshloop/errors";
import { z } from "zod";
import { actuationResultSchema } from "./actuation.ts";
import { controlCommandSchema, pauseNoticeSchema } from "./control.ts";
import { decisionSchema } from "./decision.ts";
import { targetKey } from "./target.ts";
import type { TargetRef } from "./target.ts";
import { acceptedTypes, parseOrThrow, utf8Text } from "./validation.ts";

/**
 * Decisions, actuation results, control commands and pause notices are CloudEvents 1.0 in the Kafka protocol
 * binding's binary mode: attributes in `ce_*` headers, the data as the JSON body, the subject (the target key) as the
 * message key so that all events of a target stay in order on one partition.
 */
export const CLOUDEVENTS_SPEC_VERSION = "1.0";
/** Subject and key of events about no single target (a global freeze). */
export const GLOBAL_SUBJECT = "*";

export const cloudEventDataSchemas = {
  "dev.meshloop.decision.v1": decisionSchema,
  "dev.meshloop.actuation.v1": actuationResultSchema,
  "dev.meshloop.control.v1": controlCommandSchema,
  "dev.meshloop.pause.v1": pauseNoticeSchema,
} as const;

export type CloudEventType = keyof typeof cloudEventDataSchemas;
export const CLOUD_EVENT_TYPES = Object.keys(cloudEventDataSchemas) as CloudEventType[];
export type CloudEventData<T extends CloudEventType> = z.output<(typeof cloudEventDataSchemas)[T]>;
export type CloudEventDataInput<T extends CloudEventType> = z.input<(typeof cloudEventDataSchemas)[T]>;

/** A decoded event; with the type parameter left open, a union narrowable by `type`. */
export type CloudEvent<T extends CloudEventType = CloudEventType> = {
  [K in T]: {
    specversion: typeof CLOUDEVENTS_SPEC_VERSION;
    type: K;
    id: string;
    source: string;
    time: string;
    subject: string;
    dataschema?: string;
    datacontenttype: "application/json";
    data: CloudEventData<K>;
  };
}[T];

export interface CloudEventInput<T extends CloudEventType> {
  type: T;
  id: string;
  /** URI-reference of the producer, e.g. `/meshloop/decision` or `/meshloop/actuator/istio`. */
  source: string;
  /** Defaults to now. */
  time?: string | Date;
  /** Defaults to the data's target key (GLOBAL_SUBJECT without one); if given, must equal it. */
  subject?: string;
  dataschema?: string;
  data: CloudEventDataInput<T>;
}

export interface CloudEventMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** A consumed Kafka message as the clients hand it over (kafkajs: Buffer key, value and headers). */
export interface IncomingMessage {
  key: string | Uint8Array | null | undefined;
  value: string | Uint8Array | null | undefined;
  headers?: Readonly<Record<string, string | Uint8Array | readonly (string | Uint8Array)[] | undefined>>;
}

const rfc3339 = z.iso.datetime({ offset: true });

/** The subject an event's data implies: its target's key, or GLOBAL_SUBJECT. */
export function subjectOf(data: { target?: TargetRef }): string {
  return data.target === undefined ? GLOBAL_SUBJECT : targetKey(data.target);
}

export function toCloudEventMessage<T extends CloudEventType>(event: CloudEventInput<T>): CloudEventMessage {
  const context = { type: event.type, id: event.id };
  if (event.id === "" || event.source === "") throw new ValidationError("id and source must not be empty", { context });
  const schema = schemaOf(event.type);
  const data = parseOrThrow(schema, event.data, `${event.type} data`, context) as { target?: TargetRef };
  const subject = subjectOf(data);
  if (event.subject !== undefined && event.subject !== subject) {
    throw new ValidationError(`subject ${event.subject} does not match the data's target ${subject}`, { context });
  }
  const time = event.time instanceof Date ? event.time.toISOString() : (event.time ?? new Date().toISOString());
  if (!rfc3339.safeParse(time).success) throw new ValidationError(`time "${time}" is not RFC 3339`, { context });
  const headers: Record<string, string> = {
    ce_specversion: CLOUDEVENTS_SPEC_VERSION,
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
    ce_time: time,
    ce_subject: subject,
    "content-type": "application/json",
  };
  if (event.dataschema !== undefined) headers["ce_dataschema"] = event.dataschema;
  return { key: subject, value: Buffer.from(JSON.stringify(data)), headers };
}

/** Reads and validates a binary-mode event; `expected` restricts the accepted types (a topic carries only some). */
export function fromCloudEventMessage<T extends CloudEventType = CloudEventType>(
  message: IncomingMessage,
  expected?: T | readonly T[],
): CloudEvent<T> {
  const header = (name: string): string | undefined => headerValue(message.headers, name);
  const required = (name: string): string => {
    const value = header(name);
    if (value === undefined || value === "") {
      throw new ValidationError(`missing header ${name}`, { context: { header: name } });
    }
    return value;
  };
  const specversion = required("ce_specversion");
  if (specversion !== CLOUDEVENTS_SPEC_VERSION) {
    const expectedVersion = CLOUDEVENTS_SPEC_VERSION;
    throw new ValidationError(`unsupported CloudEvents specversion "${specversion}" (expected ${expectedVersion})`);
  }
  const id = required("ce_id");
  const type = required("ce_type");
  const context = { type, id };
  if (!Object.hasOwn(cloudEventDataSchemas, type)) {
    throw new ValidationError(`unknown ce_type "${type}" (known: ${CLOUD_EVENT_TYPES.join(", ")})`, { context });
  }
  const accepted = acceptedTypes(expected, CLOUD_EVENT_TYPES);
  if (!accepted.includes(type)) {
    throw new ValidationError(`expected ce_type ${accepted.join(" or ")}, got ${type}`, { context });
  }
  const source = required("ce_source");
  const time = required("ce_time");
  if (!rfc3339.safeParse(time).success) {
    throw new ValidationError(`header ce_time "${time}" is not RFC 3339`, { context });
  }
  const subject = required("ce_subject");
  const contentType = required("content-type");
  if (contentType.split(";")[0]!.trim().toLowerCase() !== "application/json") {
    throw new ValidationError(`header content-type is ${contentType}, expected application/json`, { context });
  }
  const key = message.key == null ? "(none)" : utf8Text(message.key);
  if (key !== subject) {
    throw new ValidationError(`message key ${key} does not match ce_subject ${subject}`, { context });
  }
  if (message.value == null) throw new ValidationError("message has no body", { context });
  let body: unknown;
  try {
    body = JSON.parse(utf8Text(message.value));
  } catch (error) {
    throw new ValidationError(`${type} body is not JSON: ${(error as Error).message}`, { cause: error, context });
  }
  const data = parseOrThrow(schemaOf(type as CloudEventType), body, `${type} data`, context) as { target?: TargetRef };
  if (subjectOf(data) !== subject) {
    throw new ValidationError(`ce_subject ${subject} does not match the data's target ${subjectOf(data)}`, { context });
  }
  const dataschema = header("ce_dataschema");
  const event = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    type,
    id,
    source,
    time,
    subject,
    ...(dataschema === undefined ? {} : { dataschema }),
    datacontenttype: "application/json",
    data,
  };
  return event as CloudEvent<T>;
}

function schemaOf(type: CloudEventType): z.ZodType {
  const schema = cloudEventDataSchemas[type] as z.ZodType | undefined;
  if (schema === undefined) throw new ValidationError(`unknown CloudEvent type "${type}"`, { context: { type } });
  return schema;
}

function headerValue(headers: IncomingMessage["headers"], name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  if (typeof value === "string" || value instanceof Uint8Array) return utf8Text(value);
  // kafkajs gives an array when a header repeats; an attribute must have one value.
  if (value.length !== 1) {
    throw new ValidationError(`header ${name} appears ${value.length} times`, { context: { header: name } });
  }
  return utf8Text(value[0]!);
}
