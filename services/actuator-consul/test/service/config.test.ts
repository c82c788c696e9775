import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "@meshloop/errors";
import { describeConfig, loadConfig } from "@meshloop/runtime";
import { z } from "zod";
import { consulActuatorConfig, consulActuatorSettings } from "../../src/service/index.ts";

const BASE = { MESHLOOP_BUS: "memory", MESHLOOP_STORE: "memory" };

test("defaults: the local agent over the API, port 9106, no token, no Enterprise scope, no GitOps folder", () => {
  const config = loadConfig(consulActuatorConfig, { env: BASE });
  assert.equal(config.MESHLOOP_CONSUL_ADDR, "http://127.0.0.1:8500");
  assert.equal(config.MESHLOOP_HTTP_PORT, 9106);
  assert.equal(config.MESHLOOP_ACTUATOR_MODE, "apply");
  for (const name of ["MESHLOOP_CONSUL_TOKEN_FILE", "MESHLOOP_CONSUL_NAMESPACE", "MESHLOOP_CONSUL_PARTITION", "MESHLOOP_ACTUATOR_GITOPS_DIR"] as const) {
    assert.equal(config[name], undefined, name);
  }
});

test("every Consul setting is read as given", () => {
  const config = loadConfig(consulActuatorConfig, {
    env: {
      ...BASE,
      MESHLOOP_CONSUL_ADDR: "https://consul.service.consul:8501",
      MESHLOOP_CONSUL_TOKEN_FILE: "/var/run/secrets/consul/token",
      MESHLOOP_CONSUL_NAMESPACE: "team-a",
      MESHLOOP_CONSUL_PARTITION: "p1",
      MESHLOOP_ACTUATOR_GITOPS_DIR: "/srv/gitops",
      MESHLOOP_ACTUATOR_MODE: "dry-run",
    },
  });
  assert.deepEqual(
    [config.MESHLOOP_CONSUL_ADDR, config.MESHLOOP_CONSUL_TOKEN_FILE, config.MESHLOOP_CONSUL_NAMESPACE, config.MESHLOOP_CONSUL_PARTITION, config.MESHLOOP_ACTUATOR_GITOPS_DIR, config.MESHLOOP_ACTUATOR_MODE],
    ["https://consul.service.consul:8501", "/var/run/secrets/consul/token", "team-a", "p1", "/srv/gitops", "dry-run"],
  );
});

test("an address without a scheme and a namespace that is not a DNS label are refused, each named", () => {
  assert.throws(
    () => loadConfig(consulActuatorConfig, { env: { ...BASE, MESHLOOP_CONSUL_ADDR: "consul:8500", MESHLOOP_CONSUL_NAMESPACE: "Team_A" } }),
    (e: unknown) => e instanceof ConfigError && /MESHLOOP_CONSUL_ADDR: expected a URL/.test(e.message) && /MESHLOOP_CONSUL_NAMESPACE: expected a value matching/.test(e.message),
  );
});

test("each Consul actuator variable is described on one line", () => {
  const rows = describeConfig(z.object(consulActuatorSettings));
  assert.deepEqual(
    rows.map((r) => r.variable).filter((v) => v.startsWith("MESHLOOP_CONSUL_")),
    ["MESHLOOP_CONSUL_ADDR", "MESHLOOP_CONSUL_TOKEN_FILE", "MESHLOOP_CONSUL_NAMESPACE", "MESHLOOP_CONSUL_PARTITION"],
  );
  for (const row of rows) {
    assert.ok(row.description.length > 10 && !row.description.includes("\n"), row.variable);
    assert.equal(row.required, false, `${row.variable} has a default or is optional`);
  }
});
