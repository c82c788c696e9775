import type { z } from "zod";
import { connectionsConfig } from "@meshloop/connections";
import { commonConfig, envBool, envPort, envString, envUrl } from "@meshloop/runtime";

/** The console's own variables; an embedded `meshloop up` that runs the console adds them to its schema too. */
export const consoleSettings = {
  MESHLOOP_CONSOLE_HOST: envString()
    .default("127.0.0.1")
    .describe(
      "Address the console's web server listens on. Loopback by default: the console can freeze the loop, so expose it " +
        "on purpose (0.0.0.0 in a container, behind an authenticating proxy or with a token file).",
    ),
  MESHLOOP_CONSOLE_PORT: envPort()
    .default(9200)
    .describe("Port of the console's web server (the page, /api/state, /api/events, /api/control); 0 picks a free port."),
  MESHLOOP_CONSOLE_TOKEN_FILE: envString({ example: "/var/run/secrets/meshloop/console-token" })
    .optional()
    .describe(
      "A file holding the bearer token that POST /api/control requires, read on every command (rotation needs no " +
        "restart). Unset and without MESHLOOP_CONSOLE_TRUST_FORWARDED_USER: the console is read-only (control answers 403).",
    ),
  MESHLOOP_CONSOLE_TRUST_FORWARDED_USER: envBool()
    .default(false)
    .describe(
      "Accept control commands carrying an X-Forwarded-User header, as an authenticating proxy (oauth2-proxy, an OIDC " +
        "ingress) sets it; the user becomes the command's operator. Only with such a proxy in front: anyone who reaches " +
        "the port directly could set the header.",
    ),
  MESHLOOP_CONSOLE_GRAPH_URL: envUrl({ example: "http://aggregator:9102" })
    .optional()
    .describe(
      "The aggregator's ops URL, whose GET /graph (the dependency graph of all stage-2 instances) the console proxies. " +
        "Unset: the graph is built from the inbound and outbound edges of the aggregates the console reads.",
    ),
};

export const consoleConfig = commonConfig({ httpPort: 9108 }).extend({ ...connectionsConfig, ...consoleSettings });
export type ConsoleConfig = z.infer<typeof consoleConfig>;
