export { createMemoryBackend } from "./memory-backend.ts";
export type { MemoryBackend, MemoryBackendOptions } from "./memory-backend.ts";
export { createMemoryStore } from "./memory-store.ts";
export type { MemoryStoreOptions } from "./memory-store.ts";
export type { RedisStoreOptions } from "./redis-options.ts";
export { createRedisStore } from "./redis-store.ts";
export { StoreError } from "./store-error.ts";
export type { RangeOptions, ScoredMember, SetOptions, StateStore, TtlOptions } from "./store.ts";
