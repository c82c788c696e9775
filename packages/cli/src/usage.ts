import type { Command } from "./main.ts";

export function usage(commands: Record<string, Command>): string {
  const width = Math.max("version".length, ...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return [
    "meshloop: a closed-loop runtime controller for service meshes",
    "",
    "usage: meshloop <command> [options]",
    "",
    "commands:",
    ...lines,
    `  ${"help".padEnd(width)}  this text`,
    `  ${"version".padEnd(width)}  the version of meshloop and Node`,
    "",
    "Configuration comes from MESHLOOP_* environment variables (docs/configuration.md).",
  ].join("\n");
}
