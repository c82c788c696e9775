import { once } from "node:events";
import { parseArgs } from "node:util";
import { z } from "zod";
import { connectionsConfig, openConnections } from "@meshloop/connections";
import { fromCloudEventMessage, targetKey } from "@meshloop/contracts";
import type { CloudEvent } from "@meshloop/contracts";
import { ConfigError } from "@meshloop/errors";
import { loadConfig } from "@meshloop/runtime";
import type { Command } from "../main.ts";

const decisionsConfig = z.object(connectionsConfig);

/** One readable line per decision or pause notice. */
export function decisionLine(event: CloudEvent<"dev.meshloop.decision.v1" | "dev.meshloop.pause.v1">): string {
  if (event.type === "dev.meshloop.pause.v1") {
    const n = event.data;
    return `${n.at}  ${n.target === undefined ? "*" : targetKey(n.target)}  ${n.paused ? "PAUSED" : "RESUMED"} by ${n.by}: ${n.reason}`;
  }
  const d = event.data;
  const weights = d.desiredState.weights === null ? "" : ` weights=${Object.entries(d.desiredState.weights).map(([v, w]) => `${v}:${w}`).join(",")}`;
  const flags = [d.dryRun ? "dry-run" : "", d.requiresApproval ? "needs approval" : ""].filter(Boolean).join(", ");
  return `${new Date(d.windowEndMs).toISOString()}  ${targetKey(d.target)}  gen ${d.generation}  [${d.controllers.join("+")}]${weights}${flags ? ` (${flags})` : ""}: ${d.reason}`;
}

export const decisionsCommand: Command = {
  summary: "`decisions tail [--json] [--from-beginning] [--limit N]` prints decisions and pause notices as they are published",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: "boolean" }, "from-beginning": { type: "boolean" }, limit: { type: "string" } },
      allowPositionals: true,
    });
    if (positionals[0] !== "tail") throw new ConfigError("say `decisions tail`");
    const limit = values.limit === undefined ? Infinity : Number(values.limit);
    if (!(limit > 0)) throw new ConfigError(`--limit must be a positive number, got ${values.limit}`);
    const config = loadConfig(decisionsConfig, { env: process.env });
    const connections = openConnections({ service: "meshloop-cli", config });
    let seen = 0;
    const done = new AbortController();
    const consumer = connections.bus.consumer({
      groupId: `meshloop-cli-tail-${process.pid}-${Date.now()}`,
      topics: [connections.topics.decisions],
      fromBeginning: values["from-beginning"] === true,
      handler: async (batch) => {
        for (const record of batch.records) {
          if (seen >= limit) break;
          try {
            const event = fromCloudEventMessage(record, ["dev.meshloop.decision.v1", "dev.meshloop.pause.v1"]);
            console.log(values.json === true ? JSON.stringify(event) : decisionLine(event));
          } catch (error) {
            console.error(`skipped a record at ${record.partition}/${record.offset}: ${(error as Error).message}`);
          }
          seen++;
        }
        if (seen >= limit) done.abort();
      },
    });
    await consumer.start();
    await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM"), once(done.signal, "abort")]);
    await consumer.stop();
    await connections.close();
    return 0;
  },
};
