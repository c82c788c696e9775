/**
 * The partitioner of the spans topic. The OpenTelemetry Collector's Kafka exporter with `partition_traces_by_id: true`
 * keys each message by the trace id in lowercase hex and picks the partition with franz-go's SaramaCompatHasher over
 * 32-bit FNV-1a; meshloop's own ingest must pick the same partition so that all spans of a trace meet in one stage 1
 * consumer wherever they came from. Pinned by vectors from Go's hash/fnv (test/vectors).
 */
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const utf8 = new TextEncoder();

/** 32-bit FNV-1a, as an unsigned integer. */
export function fnv1a32(bytes: Uint8Array): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < bytes.length; i++) {
    hash = Math.imul(hash ^ bytes[i]!, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * Sarama's (and franz-go's SaramaCompatHasher's) choice: `p = int32(hash) % n; if p < 0 { p = -p }`. JavaScript's `%`
 * truncates like Go's, so on the signed value it gives Go's remainder.
 */
export function saramaPartition(key: string | Uint8Array, partitionCount: number): number {
  checkPartitionCount(partitionCount);
  const bytes = typeof key === "string" ? utf8.encode(key) : key;
  return signedToPartition(fnv1a32(bytes) | 0, partitionCount);
}

// ASCII codes of the two lowercase hex digits of every byte value, so the hot path hashes digits without a string.
const HEX_HIGH = new Uint8Array(256);
const HEX_LOW = new Uint8Array(256);
const DIGITS = "0123456789abcdef";
for (let b = 0; b < 256; b++) {
  HEX_HIGH[b] = DIGITS.charCodeAt(b >> 4);
  HEX_LOW[b] = DIGITS.charCodeAt(b & 0x0f);
}

/** The partition of a trace: `saramaPartition(hex(traceId), n)` without building the hex string. */
export function spanPartition(traceId: Uint8Array, partitionCount: number): number {
  checkPartitionCount(partitionCount);
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < traceId.length; i++) {
    const b = traceId[i]!;
    hash = Math.imul(hash ^ HEX_HIGH[b]!, FNV_PRIME);
    hash = Math.imul(hash ^ HEX_LOW[b]!, FNV_PRIME);
  }
  return signedToPartition(hash | 0, partitionCount);
}

function signedToPartition(signed: number, partitionCount: number): number {
  const p = signed % partitionCount;
  // `|| 0` turns the -0 of a negative multiple into 0.
  return (p < 0 ? -p : p) || 0;
}

function checkPartitionCount(partitionCount: number): void {
  // Go converts n to int32 too; beyond that the arithmetic above would no longer match.
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > 0x7fffffff) {
    throw new RangeError(`partitionCount must be an integer in 1..2^31-1, got ${partitionCount}`);
  }
}
