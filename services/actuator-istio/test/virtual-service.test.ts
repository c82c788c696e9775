import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { translateIstio } from "../src/index.ts";
import type { KubeWrite } from "../src/index.ts";
import { context, MANAGED, originals, state, withoutRecord } from "./fixtures.ts";

const HOST = "checkout.shop.svc.cluster.local";

function objectOf(write: KubeWrite | undefined): unknown {
  assert.ok(write !== undefined && (write.action === "apply" || write.action === "update"), `expected a write, got ${JSON.stringify(write)}`);
  return write.object;
}

// A user's VirtualService: an admin route, a header-matched canary route, and the catch-all with a fault of theirs.
function userVirtualService(): IVirtualService {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "checkout", namespace: "shop", resourceVersion: "4711", labels: { team: "payments" } },
    spec: {
      hosts: ["checkout"],
      http: [
        { name: "admin", match: [{ uri: { prefix: "/admin" } }], route: [{ destination: { host: "checkout", subset: "stable" } }], timeout: "30s" },
        { name: "pinned", match: [{ headers: { "x-canary": { exact: "1" } } }], route: [{ destination: { host: "checkout", subset: "v2" } }] },
        {
          route: [{ destination: { host: "checkout", port: { number: 8080 } } }],
          headers: { request: { set: { "x-team": "payments" } } },
          retries: { attempts: 1 },
        },
      ],
    },
  };
}

test("weights become weighted subset destinations in meshloop's own VirtualService, subsets first", () => {
  const result = translateIstio(state({ weights: { v2: 10, v1: 90 } }), context());
  assert.deepEqual(result.resources.map((w) => w.action), ["apply", "apply"]);
  assert.deepEqual((objectOf(result.resources[0]) as { kind: string }).kind, "DestinationRule");
  assert.deepEqual(objectOf(result.resources[1]), {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED },
    spec: {
      hosts: [HOST],
      http: [
        {
          name: "meshloop",
          route: [
            { destination: { host: HOST, subset: "v1" }, weight: 90 },
            { destination: { host: HOST, subset: "v2" }, weight: 10 },
          ],
        },
      ],
    },
  });
  assert.deepEqual(result.unsupported, []);
});

test("retries and the request timeout go on the route: attempts, perTryTimeout, retryOn with status codes, timeout", () => {
  const result = translateIstio(
    state({
      retries: { attempts: 3, perTryTimeoutMs: 250, retryOn: ["5xx", "retriable-status-codes"], retriableStatusCodes: [503], budget: null },
      requestTimeoutMs: 2000,
    }),
    context(),
  );
  assert.equal(result.resources.length, 1, "no DestinationRule is needed for retries and timeouts");
  assert.deepEqual(objectOf(result.resources[0]), {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED },
    spec: {
      hosts: [HOST],
      http: [
        {
          name: "meshloop",
          route: [{ destination: { host: HOST } }],
          retries: { attempts: 3, perTryTimeout: "250ms", retryOn: "5xx,retriable-status-codes,503" },
          timeout: "2s",
        },
      ],
    },
  });
});

test("zero attempts switch retries off, the mesh's default retries included", () => {
  const result = translateIstio(state({ retries: { attempts: 0, perTryTimeoutMs: 100, retryOn: ["5xx"], retriableStatusCodes: [], budget: null } }), context());
  const vs = objectOf(result.resources[0]) as IVirtualService;
  assert.deepEqual(vs.spec?.http?.[0]?.retries, { attempts: 0 });
});

test("in a user's VirtualService only the catch-all route changes; the user's other routes survive byte for byte", () => {
  const user = userVirtualService();
  const result = translateIstio(state({ weights: { v1: 80, v2: 20 }, requestTimeoutMs: 1500 }), context({ virtualService: user }));
  const update = result.resources.find((w) => w.action === "update" && w.object.kind === "VirtualService");
  assert.ok(update !== undefined && update.action === "update");
  assert.deepEqual(originals(update.object), {
    "spec.http[catch-all].route": { original: [{ destination: { host: "checkout", port: { number: 8080 } } }] },
    "spec.http[catch-all].timeout": {},
  }, "the fields changed are recorded as found; the user's retries, untouched, are not");
  assert.deepEqual(withoutRecord(update.object), {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "checkout", namespace: "shop", resourceVersion: "4711", labels: { team: "payments" } },
    spec: {
      hosts: ["checkout"],
      http: [
        { name: "admin", match: [{ uri: { prefix: "/admin" } }], route: [{ destination: { host: "checkout", subset: "stable" } }], timeout: "30s" },
        { name: "pinned", match: [{ headers: { "x-canary": { exact: "1" } } }], route: [{ destination: { host: "checkout", subset: "v2" } }] },
        {
          route: [
            { destination: { host: "checkout", subset: "v1", port: { number: 8080 } }, weight: 80 },
            { destination: { host: "checkout", subset: "v2", port: { number: 8080 } }, weight: 20 },
          ],
          headers: { request: { set: { "x-team": "payments" } } },
          retries: { attempts: 1 },
          timeout: "1500ms",
        },
      ],
    },
  });
  assert.deepEqual(user, userVirtualService(), "the object read from the cluster is not mutated");
});

test("a user's VirtualService without a catch-all gets a meshloop route appended after the user's routes", () => {
  const user = userVirtualService();
  user.spec!.http = user.spec!.http!.slice(0, 2);
  const result = translateIstio(state({ weights: { v1: 50, v2: 50 } }), context({ virtualService: user }));
  const vs = objectOf(result.resources.find((w) => w.action === "update")) as IVirtualService;
  assert.deepEqual(vs.spec?.http?.map((r) => r.name), ["admin", "pinned", "meshloop"]);
  assert.deepEqual(vs.spec?.http?.[2]?.route, [
    { destination: { host: HOST, subset: "v1" }, weight: 50 },
    { destination: { host: HOST, subset: "v2" }, weight: 50 },
  ]);
  assert.deepEqual(vs.spec?.http?.slice(0, 2), userVirtualService().spec?.http?.slice(0, 2));
});

test("translating again over its own result changes nothing: the meshloop route is found by name", () => {
  const user = userVirtualService();
  user.spec!.http = user.spec!.http!.slice(0, 2);
  const desired = state({ weights: { v1: 50, v2: 50 }, requestTimeoutMs: 800 });
  const first = objectOf(translateIstio(desired, context({ virtualService: user })).resources.find((w) => w.action === "update")) as IVirtualService;
  const second = objectOf(translateIstio(desired, context({ virtualService: first })).resources.find((w) => w.action === "update"));
  assert.deepEqual(second, first);
});

test("a catch-all route that sends the traffic elsewhere is not hijacked: the routing parts fail with the reason", () => {
  const user = userVirtualService();
  user.spec!.http![2] = { route: [{ destination: { host: "checkout-legacy.shop.svc.cluster.local" } }] };
  const result = translateIstio(state({ weights: { v1: 50, v2: 50 }, requestTimeoutMs: 800 }), context({ virtualService: user }));
  assert.equal(result.resources.filter((w) => w.action === "update" && w.object.kind === "VirtualService").length, 0);
  assert.equal(result.failed.length, 1);
  assert.deepEqual(result.failed[0]!.capabilities, ["weights", "requestTimeout"]);
  assert.match(result.failed[0]!.reason, /catch-all route http\[2\] does not send traffic to checkout\.shop/);
});

test("a user route that breaks Istio's schema is reported as failed, never queued", () => {
  const user = userVirtualService();
  user.spec!.http![0]!.route![0]!.weight = 1.5;
  const result = translateIstio(state({ requestTimeoutMs: 800 }), context({ virtualService: user }));
  assert.deepEqual(result.resources, []);
  assert.match(result.failed[0]!.reason, /weight must be integer/);
});

test("every VirtualService produced passes @kubernetes-models/istio validation", () => {
  const outputs = [
    translateIstio(state({ weights: { v1: 0, v2: 100 }, requestTimeoutMs: 90_000 }), context()),
    translateIstio(state({ weights: { v1: 1, v2: 99 } }), context({ virtualService: userVirtualService() })),
  ];
  for (const result of outputs) {
    const objects = result.resources.flatMap((w) => (w.action === "delete" || w.action === "scale" ? [] : [w.object]));
    const vs = objects.filter((o) => o.kind === "VirtualService");
    assert.equal(vs.length, 1);
    assert.doesNotThrow(() => new VirtualService(vs[0] as IVirtualService).validate());
  }
});

test("meshloop's VirtualService is deleted once no part needs it; a user's is never deleted", () => {
  const owned: IVirtualService = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "checkout-meshloop", namespace: "shop", labels: MANAGED }, spec: { hosts: [HOST] } };
  assert.deepEqual(translateIstio(state(), context({ virtualService: owned })).resources, [
    { action: "delete", ref: { apiVersion: "networking.istio.io/v1", kind: "VirtualService", namespace: "shop", name: "checkout-meshloop" } },
  ]);
  assert.deepEqual(translateIstio(state(), context({ virtualService: userVirtualService() })).resources, []);
});
