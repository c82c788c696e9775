// A user's HTTPRoute through KubeApplier and the kube emulator: merged with its record in the same checked update,
// merged again, released back to what the user wrote.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ORIGINAL_ANNOTATION } from "@meshloop/actuator-kit";
import { KubeApplier } from "@meshloop/actuator-runtime";
import type { ApplyOutcome } from "@meshloop/actuator-runtime";
import type { Decision } from "@meshloop/contracts";
import { KubeClient } from "@meshloop/kube-client";
import { KubeEmulator } from "@meshloop/kube-emulator";
import type { LinkerdContext } from "../../src/context.ts";
import { readLinkerdContext } from "../../src/read-context.ts";
import { translateLinkerd } from "../../src/translate/translate.ts";
import { decisionFor, freshNamespace, HTTP_ROUTE, seedTarget, stored } from "../cluster.ts";
import type { StoredRoute } from "../cluster.ts";

describe("a user's HTTPRoute released through the Kubernetes API", () => {
  const emulator = new KubeEmulator();
  let applier: KubeApplier<LinkerdContext>;

  before(async () => {
    const kube = new KubeClient({ baseUrl: await emulator.start() });
    applier = new KubeApplier<LinkerdContext>({ mesh: "linkerd", kube, read: (target, client, nowMs) => readLinkerdContext(client, target, nowMs), translate: translateLinkerd });
  });
  after(async () => {
    await emulator.stop();
  });

  const apply = (decision: Decision): Promise<ApplyOutcome> => applier.apply(decision, { mode: "apply", signal: new AbortController().signal });

  function seedUserRoute(ns: string): StoredRoute["spec"] {
    const spec = {
      parentRefs: [{ group: "core", kind: "Service", name: "checkout", port: 80 }],
      rules: [
        { matches: [{ path: { type: "PathPrefix", value: "/admin" } }], backendRefs: [{ name: "checkout-admin", port: 9000 }] },
        { matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: "checkout", port: 80 }] },
      ],
    };
    emulator.seed({ apiVersion: HTTP_ROUTE, kind: "HTTPRoute", metadata: { name: "checkout-users", namespace: ns, annotations: { team: "payments" } }, spec }, "kubectl-client-side-apply");
    return structuredClone(spec);
  }

  it("records the backends found in the update that changes them, keeps that record over a second merge, and restores them on release", async () => {
    const ns = freshNamespace("release");
    const target = seedTarget(emulator, ns);
    const original = seedUserRoute(ns);
    const route = () => stored<StoredRoute>(emulator, HTTP_ROUTE, "HTTPRoute", ns, "checkout-users")!;

    const first = await apply(decisionFor(target, 1, { weights: { v1: 90, v2: 10 } }));
    assert.equal(first.status, "applied", first.reason);
    const record = route().metadata.annotations?.[ORIGINAL_ANNOTATION];
    assert.ok(record !== undefined, "the record is stored with the change");
    assert.deepEqual((JSON.parse(record) as { fields: Record<string, { original?: unknown }> }).fields["spec.rules[catch-all].backendRefs"]?.original, [{ name: "checkout", port: 80 }]);

    const second = await apply(decisionFor(target, 2, { weights: { v1: 40, v2: 60 } }));
    assert.equal(second.status, "applied", second.reason);
    assert.deepEqual(route().spec.rules[1]!.backendRefs?.map((b) => b.weight), [40, 60]);
    const secondRecord = route().metadata.annotations![ORIGINAL_ANNOTATION]!;
    assert.deepEqual((JSON.parse(secondRecord) as { fields: Record<string, { original?: unknown }> }).fields["spec.rules[catch-all].backendRefs"]?.original, [{ name: "checkout", port: 80 }]);

    const released = await apply(decisionFor(target, 3));
    assert.equal(released.status, "applied", released.reason);
    assert.deepEqual(released.resources.filter((r) => r.kind === "HTTPRoute").map((r) => [r.name, r.status]), [["checkout-users", "applied"]]);
    const restored = route();
    assert.deepEqual(restored.spec, original);
    assert.deepEqual(restored.metadata.annotations, { team: "payments" });
  });

  it("keeps backends the user changed since meshloop wrote them, and says so in the result", async () => {
    const ns = freshNamespace("release");
    const target = seedTarget(emulator, ns);
    seedUserRoute(ns);
    assert.equal((await apply(decisionFor(target, 1, { weights: { v1: 90, v2: 10 } }))).status, "applied");
    emulator.edit(HTTP_ROUTE, "HTTPRoute", ns, "checkout-users", (o) => {
      (o.spec as StoredRoute["spec"]).rules[1]!.backendRefs = [{ name: "checkout-v2", port: 80 }];
    });
    const released = await apply(decisionFor(target, 2));
    assert.equal(released.status, "applied", released.reason);
    assert.match(released.reason, /HTTPRoute release-\d+\/checkout-users: spec\.rules\[catch-all\]\.backendRefs changed since meshloop wrote it/);
    const route = stored<StoredRoute>(emulator, HTTP_ROUTE, "HTTPRoute", ns, "checkout-users")!;
    assert.deepEqual(route.spec.rules[1]!.backendRefs, [{ name: "checkout-v2", port: 80 }]);
    assert.equal(route.metadata.annotations?.[ORIGINAL_ANNOTATION], undefined);
  });
});
