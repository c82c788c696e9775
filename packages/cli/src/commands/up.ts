import { createServiceRuntime, loadConfig, runProcess } from "@meshloop/runtime";
import { EMBEDDED_DEFAULTS, embeddedConfig, embeddedLoop } from "../embedded.ts";
import type { EmbeddedConfig } from "../embedded.ts";
import type { Command } from "../main.ts";

export const upCommand: Command = {
  summary: "run the whole loop and the web console (http://127.0.0.1:9200) in this process (in-memory bus and store by default; MESHLOOP_BUS=kafka for a real broker)",
  async run() {
    const config = loadConfig(embeddedConfig, { env: { ...EMBEDDED_DEFAULTS, ...process.env } });
    const runtime = await createServiceRuntime<EmbeddedConfig>({ name: "meshloop", config, create: (context) => embeddedLoop(context, { lab: false, console: true }).services });
    await runProcess(runtime, { logger: runtime.logger });
    return 0;
  },
};
