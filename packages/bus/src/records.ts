import type { OutgoingRecord, Partitioner } from "./bus.ts";
import { BusError } from "./bus-error.ts";

export function toBuffer(value: string | Buffer | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? Buffer.from(value) : value;
}

/** Key and value bytes: what a batch's size limit and a producer's backpressure count. */
export function recordBytes(key: Buffer | null, value: string | Buffer | null): number {
  const valueBytes = value === null ? 0 : typeof value === "string" ? Buffer.byteLength(value) : value.length;
  return (key?.length ?? 0) + valueBytes;
}

/**
 * Chooses the partition of one record the way both adapters must agree on: an explicit partition wins, a keyed
 * record goes where the partitioner says, an unkeyed one round-robin (`sequence` is the producer's counter).
 */
export function choosePartition(
  topic: string,
  record: OutgoingRecord,
  key: Buffer | null,
  partitionCount: number,
  partitioner: Partitioner,
  sequence: number,
): number {
  if (record.partition !== undefined) {
    if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= partitionCount) {
      throw new BusError(`topic ${topic} has ${partitionCount} partitions; partition ${record.partition} does not exist`, {
        context: { topic, partition: record.partition },
      });
    }
    return record.partition;
  }
  if (key === null) return sequence % partitionCount;
  return partitioner(key, partitionCount);
}
