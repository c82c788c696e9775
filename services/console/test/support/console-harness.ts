// Starts the console on the in-memory bus and store as the runtime would, and reads what it publishes and streams.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Bus, Consumer } from "@meshloop/bus";
import { fromCloudEventMessage, topicNames } from "@meshloop/contracts";
import type { ControlCommand } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import type { ConsoleService } from "../../src/service/index.ts";
import { consoleConfig, createConsoleService } from "../../src/service/index.ts";

export const topics = topicNames();

export interface RunningConsole {
  readonly runtime: ServiceRuntime;
  readonly service: ConsoleService;
  readonly url: string;
}

export function tokenFile(token: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "console-token-")), "token");
  writeFileSync(file, `${token}\n`);
  return file;
}

export async function startConsole(bus: Bus, store: StateStore, env: Record<string, string> = {}): Promise<RunningConsole> {
  const config = loadConfig(consoleConfig, {
    env: { MESHLOOP_BUS: "memory", MESHLOOP_STORE: "memory", MESHLOOP_LOG_LEVEL: "warn", MESHLOOP_HTTP_HOST: "127.0.0.1", MESHLOOP_HTTP_PORT: "0", MESHLOOP_CONSOLE_PORT: "0", ...env },
  });
  let service: ConsoleService | undefined;
  const runtime = await createServiceRuntime({ name: "console", config, create: (context) => (service = createConsoleService(context, { bus, store })) });
  await runtime.start();
  return { runtime, service: service!, url: service!.address().url };
}

/** Every control command published from now on, read with a group of its own. */
export async function readControl(bus: Bus, groupId: string): Promise<{ commands: ControlCommand[]; sources: string[]; consumer: Consumer }> {
  const commands: ControlCommand[] = [];
  const sources: string[] = [];
  const consumer = bus.consumer({
    groupId,
    topics: [topics.control],
    fromBeginning: true,
    handler: async (batch) => {
      for (const record of batch.records) {
        const event = fromCloudEventMessage(record, "dev.meshloop.control.v1");
        commands.push(event.data);
        sources.push(event.source);
      }
    },
  });
  await consumer.start();
  return { commands, sources, consumer };
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads a server-sent event stream into `events` until aborted. */
export async function openEvents(url: string, signal: AbortSignal): Promise<{ status: number; events: SseEvent[] }> {
  const response = await fetch(`${url}/api/events`, { signal, headers: { accept: "text/event-stream" } });
  const events: SseEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name !== undefined && data !== undefined) events.push({ event: name, data: JSON.parse(data) as unknown });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { status: response.status, events };
}
