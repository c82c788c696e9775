// The Linkerd actuator as a service on the real Kafka and Redis, writing through the Kubernetes API (an emulated
// kube-apiserver): a decision in, an HTTPRoute and the Service's annotations in the cluster, the result on actuations.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startActuator } from "@meshloop/actuator-runtime/testing";
import type { RunningActuator } from "@meshloop/actuator-runtime/testing";
import { KubeEmulator } from "@meshloop/kube-emulator";
import { createLinkerdActuatorService, linkerdActuatorConfig } from "../../src/service/index.ts";
import { decisionFor, HTTP_ROUTE, RETRIES, seedTarget, stored } from "../cluster.ts";
import type { StoredRoute } from "../cluster.ts";

const TOKEN = "linkerd-s3cret";
const emulator = new KubeEmulator({ token: TOKEN });
const target = seedTarget(emulator, "shop");
let actuator: RunningActuator;

before(async () => {
  const url = await emulator.start();
  const tokenFile = join(mkdtempSync(join(tmpdir(), "kube-")), "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  actuator = await startActuator({
    name: "actuator-linkerd",
    config: linkerdActuatorConfig,
    create: (context) => createLinkerdActuatorService(context),
    env: { MESHLOOP_KUBE_API_URL: url, MESHLOOP_KUBE_TOKEN_FILE: tokenFile },
  });
});
after(async () => {
  await actuator?.stop();
  await emulator.stop();
});

const publish = (d: Parameters<RunningActuator["publish"]>[0]) => actuator.publish(d);
const route = () => stored<StoredRoute>(emulator, HTTP_ROUTE, "HTTPRoute", target.namespace, "checkout-meshloop");

test("a decision is applied through the API: the HTTPRoute and annotations are in the cluster; the same state again is unchanged; an older generation is stale", async () => {
  const first = await publish(decisionFor(target, 1_000_000, { weights: { v1: 80, v2: 20 }, retries: RETRIES }));
  assert.equal(first.status, "applied", first.reason);
  assert.equal(first.decisionId, `linkerd/shop/checkout@1000000`);
  assert.deepEqual(first.resources.map((r) => [r.kind, r.name, r.status]), [["HTTPRoute", "checkout-meshloop", "applied"], ["Service", "checkout", "applied"]]);
  const created = route();
  assert.ok(created !== null, "meshloop's HTTPRoute is in the emulated cluster");
  assert.deepEqual(created.spec.rules[0]!.backendRefs?.map((b) => [b.name, b.weight]), [["checkout-v1", 80], ["checkout-v2", 20]]);
  assert.ok(created.metadata.managedFields?.some((m) => m.manager === "meshloop" && m.operation === "Apply"), "written by server-side apply as meshloop");
  const service = stored(emulator, "v1", "Service", "shop", "checkout")!;
  assert.equal(service.metadata.annotations?.["retry.linkerd.io/limit"], "3");

  const again = await publish(decisionFor(target, 2_000_000, { weights: { v1: 80, v2: 20 }, retries: RETRIES }));
  assert.equal(again.status, "applied", again.reason);
  assert.ok(again.resources.every((r) => r.status === "unchanged"), JSON.stringify(again.resources));

  const stale = await publish(decisionFor(target, 1_500_000, { weights: { v1: 0, v2: 100 } }));
  assert.equal(stale.status, "stale", stale.reason);
  assert.deepEqual(route()!.spec.rules[0]!.backendRefs?.map((b) => b.weight), [80, 20], "the stale decision changed nothing");
  assert.equal(route()!.metadata.resourceVersion, created.metadata.resourceVersion);
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
