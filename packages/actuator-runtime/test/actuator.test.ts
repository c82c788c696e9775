import { test } from "node:test";
import { createKafkaBus, createMemoryBus } from "@meshloop/bus";
import { createMemoryStore, createRedisStore } from "@meshloop/store";
import { acquireInfra, uniqueName } from "@meshloop/test-harness";
import { actuatorScenario } from "./actuator-scenario.ts";

test("in memory: applied, stale, awaiting approval, dry run, retried, failed; a replay applies nothing twice", async () => {
  await actuatorScenario(createMemoryBus(), createMemoryStore());
});

test("on the real Kafka and Redis: the same", async () => {
  const lease = await acquireInfra();
  const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "actuator-runtime-test" });
  const store = createRedisStore({ url: lease.redisUrl, keyPrefix: `${uniqueName("act")}:` });
  try {
    await actuatorScenario(bus, store);
  } finally {
    await bus.close();
    await store.close();
    await lease.release();
  }
});
