import assert from "node:assert/strict";
import { test } from "node:test";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { translateIstio } from "../src/index.ts";
import { context, state } from "./fixtures.ts";

test("a VirtualService Argo CD syncs is refused with the parts it would have carried", () => {
  const vs: IVirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "checkout", namespace: "shop", annotations: { "argocd.argoproj.io/tracking-id": "shop:x" } },
    spec: { hosts: ["checkout"], http: [{ route: [{ destination: { host: "checkout" } }] }] },
  };
  const result = translateIstio(state({ requestTimeoutMs: 1000, retries: { attempts: 1, perTryTimeoutMs: null, retryOn: [], retriableStatusCodes: [], budget: null } }), context({ virtualService: vs }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.refused.map((r) => [r.ref.name, r.capabilities]), [["checkout", ["retries", "requestTimeout"]]]);
});
