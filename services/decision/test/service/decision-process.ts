// The decision service as a child process over the real Kafka and Redis, for restart and crash tests.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/service/main.ts", import.meta.url));

export interface DecisionProcess {
  readonly child: ChildProcess;
  /** Everything the process logged so far (pino JSON lines). */
  log(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startDecisionProcess(env: Record<string, string>, logFile: string): DecisionProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv["NODE_TEST_CONTEXT"];
  const child = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", MAIN], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const file = createWriteStream(logFile, { flags: "a" });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      file.write(chunk);
    });
  }
  return {
    child,
    log: () => text,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill(signal);
      await exited;
      file.end();
    },
  };
}
