import { readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { loadScenario } from "@meshloop/lab";
import { ConfigError, ValidationError } from "@meshloop/errors";
import { writeReport } from "../lab/report.ts";
import { runScenario } from "../lab/run-scenario.ts";
import type { ScenarioRun } from "../lab/run-scenario.ts";
import type { LoopMode } from "../lab/loops.ts";
import type { Command } from "../main.ts";

/** The scenarios shipped with meshloop. */
export const SCENARIO_DIR = new URL("../../../../services/lab/scenarios/", import.meta.url).pathname;

/** `meshloop lab run <scenario.yaml|name> [--report file.html]` and `meshloop lab list`. */
export const labCommand: Command = {
  summary: "`lab run <scenario> [--report out.html] [--distributed]` runs a lab scenario against the loop and judges it; `lab list` names the shipped ones",
  async run(args) {
    const { positionals, values } = parseArgs({ args, options: { report: { type: "string" }, distributed: { type: "boolean" } }, allowPositionals: true });
    const [action, target] = positionals;
    if (action === "list") {
      for (const file of await shipped()) {
        const scenario = loadScenario(await readFile(file, "utf8"), file);
        console.log(`${scenario.name.padEnd(28)} ${scenario.description}`);
      }
      return 0;
    }
    if (action !== "run" || target === undefined) {
      console.error("meshloop lab: say `run <scenario.yaml or shipped name> [--report out.html]` or `list`");
      return 2;
    }
    const file = await resolveScenario(target);
    const scenario = loadScenario(await readFile(file, "utf8"), file);
    const run = await runScenario(scenario, { log: (line) => console.log(line), mode: values.distributed === true ? distributedMode() : { kind: "embedded" } });
    printVerdicts(run);
    if (values.report !== undefined) {
      await writeFile(values.report, writeReport(run));
      console.log(`report: ${values.report}`);
    }
    return run.verdicts.every((v) => v.state === "passed") ? 0 : 1;
  },
};

/** `--distributed`: the services as processes on the Kafka and Redis the environment names. */
function distributedMode(): LoopMode {
  const brokers = process.env.MESHLOOP_KAFKA_BROKERS;
  const redis = process.env.MESHLOOP_REDIS_URL;
  if (brokers === undefined || redis === undefined) {
    throw new ConfigError("--distributed needs MESHLOOP_KAFKA_BROKERS and MESHLOOP_REDIS_URL (infra/kafka/start.sh and infra/redis/start.sh start local ones)");
  }
  return { kind: "distributed", kafkaBrokers: brokers.split(","), redisUrl: redis, prefix: `lab-${Date.now()}` };
}

export async function shipped(): Promise<string[]> {
  const names = (await readdir(SCENARIO_DIR)).filter((f) => f.endsWith(".yaml")).sort();
  return names.map((f) => join(SCENARIO_DIR, f));
}

async function resolveScenario(target: string): Promise<string> {
  if (target.endsWith(".yaml") || target.endsWith(".yml")) return target;
  const match = (await shipped()).find((f) => basename(f, ".yaml") === target);
  if (match === undefined) throw new ValidationError(`no shipped scenario "${target}"; \`meshloop lab list\` names them, or give a file`);
  return match;
}

function printVerdicts(run: ScenarioRun): void {
  console.log(`\n${run.scenario.name}: ${(run.wallMs / 1000).toFixed(1)} s wall clock, ${run.record.decisions.length} decisions, ${run.record.actuations.length} actuations`);
  for (const v of run.verdicts) {
    const e = v.expectation;
    const what = `${e.kind} ${e.service}`;
    const figures = v.figures === undefined ? "" : ` [${v.figures.windows} windows; decision +${(v.figures.toDecisionMs / 1000).toFixed(1)} s, applied ${v.figures.toActuationMs === null ? "-" : `+${(v.figures.toActuationMs / 1000).toFixed(1)} s`}]`;
    console.log(`${v.state === "passed" ? "PASS" : "FAIL"} ${what}: ${v.detail}${figures}`);
  }
}
