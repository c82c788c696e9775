export { describe, DRY_RUN_MESSAGE, refOfWrite, runWrites } from "./writes.ts";
export type { KubeWriteLike, WriteRun } from "./writes.ts";
