import { createMemoryBus } from "../src/index.ts";
import { busContract } from "./bus-contract.ts";

// One in-memory "cluster" per fixture; `another` must see the same topics and groups, like a second client.
busContract("memory", async () => {
  const bus = createMemoryBus();
  return { bus, another: () => bus, teardown: () => bus.close() };
});
