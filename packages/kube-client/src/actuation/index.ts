export { readTarget } from "./target-reads.ts";
export type { ServiceObject, TargetReads } from "./target-reads.ts";
export { describe, DRY_RUN_MESSAGE, refOfWrite, runWrites } from "./writes.ts";
export type { KubeWriteLike, WriteRun } from "./writes.ts";
