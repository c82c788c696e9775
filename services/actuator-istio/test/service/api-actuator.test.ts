// The Istio actuator as a service on the real Kafka and Redis, writing through the Kubernetes API (an emulated
// kube-apiserver): a decision in, VirtualService and DestinationRule in the cluster, the result on the actuations topic.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { KubeEmulator } from "@meshloop/kube-emulator";
import type { RunningActuator } from "./actuator-harness.ts";
import { decision, startActuator, target } from "./actuator-harness.ts";

const emulator = new KubeEmulator({ token: "s3cret-token" });
let actuator: RunningActuator;

before(async () => {
  const url = await emulator.start();
  const tokenFile = join(mkdtempSync(join(tmpdir(), "kube-")), "token");
  writeFileSync(tokenFile, "s3cret-token\n");
  emulator.seed({ apiVersion: "v1", kind: "Service", metadata: { name: target.service, namespace: target.namespace }, spec: { selector: { app: target.service }, ports: [{ port: 80 }] } });
  actuator = await startActuator({ MESHLOOP_KUBE_API_URL: url, MESHLOOP_KUBE_TOKEN_FILE: tokenFile });
});
after(async () => {
  await actuator?.stop();
  await emulator.stop();
});

test("a decision is written to the cluster and reported applied; the same state again is unchanged; a stale one is skipped", async () => {
  const first = await actuator.publish(decision(1_000_000, { v1: 90, v2: 10 }));
  assert.equal(first.status, "applied", first.reason);
  const vs = emulator.object("networking.istio.io/v1", "VirtualService", target.namespace, `${target.service}-meshloop`) as { spec: { http: { route: { weight: number }[]; retries?: { attempts: number } }[] } } | null;
  assert.ok(vs !== null, "meshloop's VirtualService exists");
  assert.deepEqual(vs.spec.http[0]!.route.map((r) => r.weight), [90, 10]);
  assert.equal(vs.spec.http[0]!.retries?.attempts, 2);
  const again = await actuator.publish(decision(2_000_000, { v1: 90, v2: 10 }));
  assert.equal(again.status, "applied");
  assert.ok(again.resources.every((r) => r.status === "unchanged"), JSON.stringify(again.resources));
  const stale = await actuator.publish(decision(1_500_000, { v1: 0, v2: 100 }));
  assert.equal(stale.status, "stale");
});

test("/readyz includes the API server, and says so when it is gone", async () => {
  const { port } = actuator.runtime.ops.address();
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(ready.status, 200, await ready.text());
  await emulator.stop();
  const down = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(down.status, 503);
  assert.match(await down.text(), /kubernetes/);
});
