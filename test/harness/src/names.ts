import { randomBytes } from "node:crypto";

let counter = 0;

/**
 * A name no other test (in this run or a parallel one) uses: topics, consumer groups and key prefixes.
 * Kafka topic names allow [a-zA-Z0-9._-], so the result stays inside that set.
 */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${randomBytes(3).toString("hex")}`;
}
