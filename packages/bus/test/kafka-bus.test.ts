import { acquireInfra } from "@meshloop/test-harness";
import { createKafkaBus } from "../src/index.ts";
import { busContract } from "./bus-contract.ts";

// The same contract against the real Apache Kafka broker started by infra/kafka (the harness starts it if needed).
busContract("kafka", async () => {
  const lease = await acquireInfra();
  const created: ReturnType<typeof createKafkaBus>[] = [];
  const make = () => {
    const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "bus-contract" });
    created.push(bus);
    return bus;
  };
  const bus = make();
  return {
    bus,
    another: make,
    teardown: async () => {
      await Promise.all(created.map((b) => b.close()));
      await lease.release();
    },
  };
});
