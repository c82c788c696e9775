export { APPLY_PATCH, KubeEmulator, MERGE_PATCH } from "./emulator.ts";
export type { InjectedFailure, KubeEmulatorOptions, RecordedRequest, RequestHook } from "./emulator.ts";
export type { Json, JsonObject } from "./fields.ts";
export { apiVersionOf, DEFAULT_RESOURCES } from "./resources.ts";
export type { ResourceType } from "./resources.ts";
export { parseLabelSelector } from "./selectors.ts";
export { StatusError } from "./status.ts";
export { ObjectStore } from "./store.ts";
export type { Operation, Validator, WriteOptions } from "./store.ts";
