import { ValidationError } from "@meshloop/errors";
import type { WireWriter } from "./wire-writer.ts";

/**
 * Scalars of the OTLP/JSON mapping (proto3 JSON with OTLP's exceptions: ids in hex, enums as integers), written
 * straight into protobuf. Values come from JSON.parse, so they are checked here, and a bad one throws a
 * ValidationError naming its JSON path. The path is kept as a stack of segments and only formatted on error.
 */
export class JsonPath {
  private readonly segments: (string | number)[] = [];

  push(segment: string | number): void {
    this.segments.push(segment);
  }

  pop(): void {
    this.segments.pop();
  }

  toString(field?: string): string {
    let text = "";
    for (const s of this.segments) text += typeof s === "number" ? `[${s}]` : text === "" ? s : `.${s}`;
    if (field !== undefined) text += text === "" ? field : `.${field}`;
    return text === "" ? "(root)" : text;
  }

  fail(field: string | undefined, expected: string, value: unknown): ValidationError {
    return this.invalid(field, `expected ${expected}, got ${describe(value)}`);
  }

  invalid(field: string | undefined, problem: string): ValidationError {
    const at = this.toString(field);
    return new ValidationError(`${at}: ${problem}`, { context: { path: at } });
  }
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}...` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return typeof value;
}

export type JsonObject = Record<string, unknown>;

/** A message field: an object, or undefined for absent or null. */
export function objectAt(value: unknown, path: JsonPath, field?: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw path.fail(field, "an object", value);
  return value as JsonObject;
}

/** A repeated field: an array, or empty for absent or null. */
export function arrayAt(value: unknown, path: JsonPath, field: string): readonly unknown[] {
  if (value === undefined || value === null) return EMPTY_ARRAY;
  if (!Array.isArray(value)) throw path.fail(field, "an array", value);
  return value;
}
const EMPTY_ARRAY: readonly unknown[] = [];

export function writeString(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== "string") throw path.fail(field, "a string", value);
  w.tag(fieldNumber, 2);
  w.string(value);
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;

/**
 * A trace or span id: hex of any case. A wrong number of bytes is written as it is, so that the span is rejected
 * alone with partial success, like protobuf input; only text that is not hex at all fails the request.
 */
export function writeHexId(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== "string" || value.length % 2 !== 0) throw path.fail(field, "a hex string", value);
  const length = value.length / 2;
  w.tag(fieldNumber, 2);
  w.varint(length);
  const at = w.reserve(length);
  const buf = w.buffer;
  for (let i = 0; i < length; i++) {
    const high = HEX[value.charCodeAt(2 * i)] ?? -1;
    const low = HEX[value.charCodeAt(2 * i + 1)] ?? -1;
    if (high < 0 || low < 0) throw path.fail(field, "a hex string", value);
    buf[at + i] = (high << 4) | low;
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function writeBase64(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  if (typeof value !== "string" || !BASE64.test(value)) throw path.fail(field, "a base64 string", value);
  w.tag(fieldNumber, 2);
  w.bytes(Buffer.from(value, "base64"));
}

export function writeBool(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  if (typeof value !== "boolean") throw path.fail(field, "true or false", value);
  w.tag(fieldNumber, 0);
  w.varint(value ? 1 : 0);
}

/** A double: a number, or a string holding one or NaN, Infinity, -Infinity (JSON has no literal for those). */
export function writeDouble(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  let number: number;
  if (typeof value === "number") number = value;
  else if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) number = Number(value);
  else if (value === "NaN") number = NaN;
  else throw path.fail(field, "a number", value);
  w.tag(fieldNumber, 1);
  w.double(number);
}

// The halves of the last integer parsed; module state rather than a result object on a per-span path.
let lo = 0;
let hi = 0;

const DECIMAL = /^-?\d{1,20}$/;

/**
 * Parses an integer given as a JSON number or a decimal string (proto3 JSON writes 64-bit integers as strings)
 * into `lo`/`hi`, two's complement, checking it fits the field's type. Returns false when it does not.
 */
function parseInteger(value: unknown, signed: boolean, bits: 32 | 64): boolean {
  let negative: boolean;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return false;
    negative = value < 0;
    const magnitude = Math.abs(value);
    lo = magnitude % 4294967296;
    hi = Math.floor(magnitude / 4294967296);
  } else if (typeof value === "string" && DECIMAL.test(value)) {
    negative = value.charCodeAt(0) === 45;
    const digits = negative ? value.slice(1) : value;
    if (digits.length <= 15) {
      const magnitude = Number(digits);
      lo = magnitude % 4294967296;
      hi = Math.floor(magnitude / 4294967296);
    } else if (!decimalHalves(digits)) {
      return false;
    }
  } else {
    return false;
  }
  if (negative && !signed && (lo !== 0 || hi !== 0)) return false;
  if (bits === 32) {
    const max = signed ? (negative ? 0x80000000 : 0x7fffffff) : 0xffffffff;
    if (hi !== 0 || lo > max) return false;
  } else if (signed) {
    if (hi > 0x80000000 || (hi === 0x80000000 && (lo !== 0 || !negative))) return false;
  } else if (hi > 0xffffffff) {
    return false;
  }
  if (negative) {
    // Two's complement of the magnitude, on the halves (the magnitude may be beyond 2^53).
    lo = ~lo >>> 0;
    hi = ~hi >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
  }
  return true;
}

/** The halves of a decimal of 16 to 20 digits, exactly: high digits * 1e9 + the last nine, in 64-bit pieces. */
function decimalHalves(digits: string): boolean {
  const high = Number(digits.slice(0, -9));
  const low = Number(digits.slice(-9));
  const highTop = Math.floor(high / 65536);
  const highBottom = high % 65536;
  const a = highTop * 1e9; // < 2^49, multiplied by 2^16 below
  const b = highBottom * 1e9 + low; // < 2^47
  const sumLo = (a % 65536) * 65536 + (b % 4294967296);
  lo = sumLo % 4294967296;
  hi = Math.floor(a / 65536) + Math.floor(b / 4294967296) + Math.floor(sumLo / 4294967296);
  return hi < 4294967296;
}

export function writeFixed64(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  if (value === undefined || value === null) return;
  if (!parseInteger(value, false, 64)) throw path.fail(field, "an unsigned 64-bit integer", value);
  w.tag(fieldNumber, 1);
  w.fixed64(lo, hi);
}

export function writeFixed32(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  if (value === undefined || value === null) return;
  if (!parseInteger(value, false, 32)) throw path.fail(field, "an unsigned 32-bit integer", value);
  w.tag(fieldNumber, 5);
  w.fixed32(lo);
}

export function writeUint32(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  if (value === undefined || value === null) return;
  if (!parseInteger(value, false, 32)) throw path.fail(field, "an unsigned 32-bit integer", value);
  w.tag(fieldNumber, 0);
  w.varint(lo);
}

export function writeInt64(w: WireWriter, fieldNumber: number, value: unknown, path: JsonPath, field: string): void {
  if (!parseInteger(value, true, 64)) throw path.fail(field, "a 64-bit integer", value);
  w.tag(fieldNumber, 0);
  w.varint64(lo, hi);
}

/** An enum: its integer (what OTLP/JSON requires), or its name as proto3 JSON also allows. */
export function writeEnum(
  w: WireWriter,
  fieldNumber: number,
  value: unknown,
  names: ReadonlyMap<string, number>,
  path: JsonPath,
  field: string,
): void {
  if (value === undefined || value === null) return;
  const named = typeof value === "string" ? names.get(value) : undefined;
  if (named !== undefined) {
    w.tag(fieldNumber, 0);
    w.varint(named);
    return;
  }
  if (!parseInteger(value, true, 32)) throw path.fail(field, "an enum integer", value);
  w.tag(fieldNumber, 0);
  // An int32 on the wire: negative values are sign-extended to ten bytes (hi is all ones after parsing).
  w.varint64(lo, hi);
}
