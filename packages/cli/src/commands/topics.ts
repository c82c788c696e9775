import { z } from "zod";
import { connectionsConfig, openConnections } from "@meshloop/connections";
import { TOPIC_IDS, TOPICS, topicNames } from "@meshloop/contracts";
import { loadConfig } from "@meshloop/runtime";
import type { Command } from "../main.ts";

const topicsConfig = z.object(connectionsConfig);

export const topicsCommand: Command = {
  summary: "`topics list` prints the loop's topics; `topics create` creates the missing ones on MESHLOOP_KAFKA_BROKERS",
  async run(args) {
    const [action] = args;
    const config = loadConfig(topicsConfig, { env: process.env });
    if (action === "list") {
      const names = topicNames(config.MESHLOOP_TOPIC_PREFIX);
      for (const id of TOPIC_IDS) {
        const topic = TOPICS[id];
        console.log(`${names[id].padEnd(48)} partitions=${topic.partitions} key=${topic.key} partitioner=${topic.partitioner} format=${topic.format}`);
      }
      return 0;
    }
    if (action === "create") {
      const connections = openConnections({ service: "meshloop-cli", config: { ...config, MESHLOOP_CREATE_TOPICS: true } });
      try {
        await connections.ensureTopics();
        for (const id of TOPIC_IDS) {
          console.log(`${connections.topics[id]}: ${await connections.bus.partitionCount(connections.topics[id])} partitions`);
        }
      } finally {
        await connections.close();
      }
      return 0;
    }
    console.error("meshloop topics: say `list` or `create`");
    return 2;
  },
};
