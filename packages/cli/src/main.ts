import { parseArgs } from "node:util";
import { MeshloopError } from "@meshloop/errors";
import { approveCommand, canaryCommand, freezeCommand, rejectCommand, releaseCommand, unfreezeCommand } from "./commands/control.ts";
import { decisionsCommand } from "./commands/decisions.ts";
import { labCommand } from "./commands/lab.ts";
import { policyCommand } from "./commands/policy.ts";
import { topicsCommand } from "./commands/topics.ts";
import { configurationReference } from "./config-reference.ts";
import { upCommand } from "./commands/up.ts";
import { usage } from "./usage.ts";

/** A subcommand: returns the process exit code (long-running ones resolve when they have started). */
export interface Command {
  readonly summary: string;
  run(args: string[]): Promise<number>;
}

const commands: Readonly<Record<string, Command>> = {
  up: upCommand,
  lab: labCommand,
  topics: topicsCommand,
  policy: policyCommand,
  decisions: decisionsCommand,
  approve: approveCommand,
  reject: rejectCommand,
  freeze: freezeCommand,
  unfreeze: unfreezeCommand,
  release: releaseCommand,
  canary: canaryCommand,
  "config-reference": {
    summary: "print the configuration reference (docs/configuration.md) generated from the services' schemas",
    run: async () => {
      process.stdout.write(configurationReference());
      return 0;
    },
  },
};

/** Exit codes: 0 success, 1 failure at run time, 2 a usage or configuration error. */
export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    options: { help: { type: "boolean", short: "h" }, version: { type: "boolean" } },
    allowPositionals: true,
    strict: false,
  });
  const [name] = positionals;
  if (values.version === true || name === "version") {
    console.log(await version());
    return 0;
  }
  if (name === undefined || name === "help" || (values.help === true && name === undefined)) {
    console.log(usage(commands));
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`meshloop: unknown command "${name}"; run \`meshloop help\` for the list`);
    return 2;
  }
  try {
    return await command.run(argv.slice(argv.indexOf(name) + 1));
  } catch (error) {
    if (error instanceof MeshloopError) {
      console.error(`meshloop ${name}: ${error.message}`);
      return error.name === "ConfigError" ? 2 : 1;
    }
    throw error;
  }
}

async function version(): Promise<string> {
  const { default: pkg } = (await import("../package.json", { with: { type: "json" } })) as { default: { version: string } };
  return `meshloop ${pkg.version} (node ${process.version})`;
}
