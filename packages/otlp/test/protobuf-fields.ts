/**
 * A deliberately naive protobuf field lister for checking outputs independently of src/wire-reader.ts: BigInt
 * varints, no shortcuts, plain Errors. Tests use it to take requests apart field by field.
 */
export interface Field {
  readonly number: number;
  readonly wireType: number;
  /** The payload of a length-delimited field; the value bytes otherwise. */
  readonly payload: Buffer;
  /** The whole field, tag included. */
  readonly raw: Buffer;
  /** The value of a varint field. */
  readonly varint: bigint;
}

export function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw new Error(`truncated varint at ${pos}`);
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      if (shift > 63n) throw new Error("varint too long");
    }
  };
  while (pos < buf.length) {
    const start = pos;
    const tag = Number(varint());
    const number = tag >>> 3;
    const wireType = tag & 7;
    let payloadStart = pos;
    let value = 0n;
    if (wireType === 0) value = varint();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const length = Number(varint());
      payloadStart = pos;
      pos += length;
    } else throw new Error(`wire type ${wireType} at ${start}`);
    if (pos > buf.length) throw new Error(`field at ${start} runs past the end`);
    out.push({ number, wireType, payload: buf.subarray(payloadStart, pos), raw: buf.subarray(start, pos), varint: value });
  }
  return out;
}

export function payloads(buf: Buffer, number: number): Buffer[] {
  return fields(buf)
    .filter((f) => f.number === number)
    .map((f) => f.payload);
}

export function payload(buf: Buffer, number: number): Buffer | undefined {
  return payloads(buf, number).at(-1);
}

export interface DecodedScope {
  readonly scope: Buffer | undefined;
  readonly spans: Buffer[];
  /** All fields but the spans, raw, in order. */
  readonly header: Buffer[];
}

export interface DecodedResource {
  readonly resource: Buffer | undefined;
  readonly scopes: DecodedScope[];
  readonly header: Buffer[];
}

/** An ExportTraceServiceRequest taken apart to resources, scopes and span payloads. */
export function decodeRequest(buf: Buffer): DecodedResource[] {
  return payloads(buf, 1).map((rs) => {
    const rsFields = fields(rs);
    return {
      resource: rsFields.findLast((f) => f.number === 1)?.payload,
      header: rsFields.filter((f) => f.number !== 2).map((f) => f.raw),
      scopes: rsFields
        .filter((f) => f.number === 2)
        .map((ss) => {
          const ssFields = fields(ss.payload);
          return {
            scope: ssFields.findLast((f) => f.number === 1)?.payload,
            spans: ssFields.filter((f) => f.number === 2).map((f) => f.payload),
            header: ssFields.filter((f) => f.number !== 2).map((f) => f.raw),
          };
        }),
    };
  });
}

/** Resource or KeyValue-list attributes as key -> string value (other value types as their AnyValue bytes, hex). */
export function attributes(message: Buffer | undefined, field = 1): Map<string, string> {
  const out = new Map<string, string>();
  if (message === undefined) return out;
  for (const kv of payloads(message, field)) {
    const key = payload(kv, 1)?.toString("utf8") ?? "";
    const any = payload(kv, 2) ?? Buffer.alloc(0);
    const text = payload(any, 1);
    out.set(key, text !== undefined && fields(any)[0]?.wireType === 2 ? text.toString("utf8") : any.toString("hex"));
  }
  return out;
}

/** Builders for hand-made messages. */
export function varintBytes(value: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

export function ld(number: number, ...parts: (Buffer | string)[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
  return Buffer.concat([varintBytes((number << 3) | 2), varintBytes(body.length), body]);
}

export function varintField(number: number, value: bigint | number): Buffer {
  return Buffer.concat([varintBytes(number << 3), varintBytes(value)]);
}

export function fixed64Field(number: number, value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return Buffer.concat([varintBytes((number << 3) | 1), b]);
}

export function fixed32Field(number: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return Buffer.concat([varintBytes((number << 3) | 5), b]);
}

export function stringAttribute(key: string, value: string): Buffer {
  return ld(1, key ? ld(1, key) : Buffer.alloc(0), ld(2, ld(1, value)));
}
