import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, symlink } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { acquireInfra } from "../src/index.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

function run(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile("/bin/bash", [join(repoRoot, script)], { env }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr });
    });
  });
}

test("a machine without Java fails the Kafka start with a message that says what to install", async () => {
  const cache = await mkdtemp(join(tmpdir(), "no-java-"));
  // A PATH with the shell tools the script needs before its Java check, and no java.
  const bin = await mkdtemp(join(tmpdir(), "bin-"));
  for (const tool of ["dirname", "sed"]) await symlink(`/usr/bin/${tool}`, join(bin, tool));
  const { code, stderr } = await run("infra/kafka/start.sh", { PATH: bin, MESHLOOP_KAFKA_CACHE: cache, MESHLOOP_KAFKA_PORT: "19999" });
  assert.notEqual(code, 0);
  assert.match(stderr, /'java' not found on PATH\. Kafka .* needs Java 17 or newer: apt-get install -y openjdk-17-jre-headless/);
});

test("acquireInfra hands out reachable Kafka and Redis endpoints; a released lease leaves other leases working", async () => {
  const first = await acquireInfra();
  const second = await acquireInfra();
  await first.release();
  for (const address of [second.kafkaBrokers[0]!, second.redisUrl.replace("redis://", "")]) {
    const [host, port] = address.split(":") as [string, string];
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port: Number(port) }, () => { socket.destroy(); resolve(); });
      socket.once("error", reject);
    });
  }
  await second.release();
});
