import { randomUUID } from "node:crypto";
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { connectionsConfig, openConnections } from "@meshloop/connections";
import { parseTargetKey, toCloudEventMessage } from "@meshloop/contracts";
import type { ControlCommandName, TargetRef } from "@meshloop/contracts";
import { ConfigError } from "@meshloop/errors";
import { loadConfig } from "@meshloop/runtime";
import type { Command } from "../main.ts";

const controlConfig = z.object(connectionsConfig);

/** A decision id is `<mesh>/<namespace>/<service>@<generation>`: its target is in it. */
function targetOfDecision(decisionId: string): TargetRef {
  const at = decisionId.lastIndexOf("@");
  if (at <= 0) throw new ConfigError(`"${decisionId}" is not a decision id (mesh/namespace/service@generation)`);
  return parseTargetKey(decisionId.slice(0, at));
}

interface Parsed {
  target?: TargetRef;
  decisionId?: string;
  version?: string;
}

/** Publishes one operator command to the control topic; the decision service answers it with a decision or a notice. */
function options(args: string[]) {
  try {
    return parseArgs({ args, options: { operator: { type: "string" }, reason: { type: "string" } }, allowPositionals: true });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

async function send(command: ControlCommandName, parsed: Parsed, args: string[]): Promise<number> {
  const { values } = options(args);
  const config = loadConfig(controlConfig, { env: process.env });
  if (config.MESHLOOP_BUS === "memory") throw new ConfigError("MESHLOOP_BUS is memory: operator commands need the Kafka the decision service reads (MESHLOOP_BUS=kafka)");
  const connections = openConnections({ service: "meshloop-cli", config });
  const commandId = randomUUID();
  const operator = typeof values.operator === "string" ? values.operator : userInfo().username;
  const data = {
    commandId,
    command,
    operator,
    issuedAt: new Date().toISOString(),
    ...(parsed.target === undefined ? {} : { target: parsed.target }),
    ...(parsed.decisionId === undefined ? {} : { decisionId: parsed.decisionId }),
    ...(parsed.version === undefined ? {} : { version: parsed.version }),
    ...(typeof values.reason === "string" ? { reason: values.reason } : {}),
  };
  const message = toCloudEventMessage({ type: "dev.meshloop.control.v1", id: commandId, source: "/meshloop/cli", data });
  const producer = connections.bus.producer();
  try {
    await producer.connect();
    await producer.send(connections.topics.control, [message]);
  } finally {
    await producer.close();
    await connections.close();
  }
  console.log(`${command} sent as command ${commandId}${parsed.target ? ` for ${parsed.target.mesh}/${parsed.target.namespace}/${parsed.target.service}` : ""}`);
  return 0;
}

function positional(args: string[], what: string): string {
  const value = options(args).positionals[0];
  if (value === undefined) throw new ConfigError(`say which ${what}`);
  return value;
}

export const approveCommand: Command = {
  summary: "`approve <decision-id>` turns a proposal (e.g. a caller's denial) into an enforced decision",
  run: (args) => {
    const decisionId = positional(args, "decision (mesh/namespace/service@generation)");
    return send("approve", { decisionId, target: targetOfDecision(decisionId) }, args);
  },
};

export const rejectCommand: Command = {
  summary: "`reject <decision-id>` drops a proposal awaiting approval",
  run: (args) => {
    const decisionId = positional(args, "decision (mesh/namespace/service@generation)");
    return send("reject", { decisionId, target: targetOfDecision(decisionId) }, args);
  },
};

export const freezeCommand: Command = {
  summary: "`freeze [mesh/namespace/service]` holds every action (of one target, or all without one)",
  run: (args) => {
    const key = options(args).positionals[0];
    return send("freeze", key === undefined ? {} : { target: parseTargetKey(key) }, args);
  },
};

export const unfreezeCommand: Command = {
  summary: "`unfreeze [mesh/namespace/service]` resumes actions",
  run: (args) => {
    const key = options(args).positionals[0];
    return send("unfreeze", key === undefined ? {} : { target: parseTargetKey(key) }, args);
  },
};

export const releaseCommand: Command = {
  summary: "`release <mesh/namespace/service>` hands a target back to the mesh (meshloop manages nothing of it)",
  run: (args) => send("release", { target: parseTargetKey(positional(args, "target (mesh/namespace/service)")) }, args),
};

export const canaryCommand: Command = {
  summary: "`canary start <mesh/namespace/service> [version]` or `canary abort <mesh/namespace/service>`",
  run: (args) => {
    const [action, key, version] = options(args).positionals;
    if ((action !== "start" && action !== "abort") || key === undefined) throw new ConfigError("say `canary start <target> [version]` or `canary abort <target>`");
    const target = parseTargetKey(key);
    return action === "start"
      ? send("canary-start", { target, ...(version === undefined ? {} : { version }) }, args.slice(1))
      : send("canary-abort", { target }, args.slice(1));
  },
};
