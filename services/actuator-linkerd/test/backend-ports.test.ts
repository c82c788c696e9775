import assert from "node:assert/strict";
import { test } from "node:test";
import { translateLinkerd } from "../src/index.ts";
import { backendPort, describePort } from "../src/translate/backend-ports.ts";
import { context, objectOf, state } from "./fixtures.ts";

const HTTP = { name: "http", port: 80, targetPort: "http" };

test("a version's port: by the target port's name first, then by the pods' port, then by number; none: null", () => {
  assert.equal(backendPort(HTTP, [{ name: "admin", port: 80, targetPort: 9000 }, { name: "http", port: 8080, targetPort: 8080 }]), 8080, "the name wins over an equal number");
  assert.equal(backendPort(HTTP, [{ port: 80, targetPort: 9000 }, { port: 9090, targetPort: "http" }]), 9090, "the same pods' port wins over an equal number");
  assert.equal(backendPort({ port: 80 }, [{ port: 81 }, { port: 80 }]), 80, "an unnamed target port forwarding to 80: the Service port forwarding to 80");
  assert.equal(backendPort({ port: 80, targetPort: 8080 }, [{ port: 80, targetPort: 9000 }]), 80, "by number when nothing else matches");
  assert.equal(backendPort(HTTP, [{ name: "metrics", port: 9100, targetPort: 9100 }]), null);
  assert.equal(backendPort(HTTP, []), null);
});

test("a port in failures says what it was matched by", () => {
  assert.equal(describePort(HTTP), "80 (name http, targetPort http)");
  assert.equal(describePort({ port: 8080 }), "8080");
});

test("each backendRef names its own Service's port; a version without traffic and without the port is left out", () => {
  const ctx = context({
    service: { apiVersion: "v1", kind: "Service", metadata: { name: "checkout", namespace: "shop" }, spec: { ports: [{ name: "grpc", port: 9000 }, HTTP] } },
    port: 80,
    backendPorts: { "checkout-v1": [{ name: "http", port: 8080 }], "checkout-v2": [{ name: "http", port: 8081 }] },
  });
  const route = objectOf(translateLinkerd(state({ weights: { v1: 100, v2: 0 } }), ctx).resources[0]) as { spec: { rules: { backendRefs: unknown[] }[] } };
  assert.deepEqual(route.spec.rules[0]!.backendRefs, [{ name: "checkout-v1", port: 8080, weight: 100 }, { name: "checkout-v2", port: 8081, weight: 0 }]);
  const without = translateLinkerd(state({ weights: { v1: 100, v2: 0 } }), { ...ctx, backendPorts: { "checkout-v1": [{ name: "http", port: 8080 }], "checkout-v2": [{ port: 7000 }] } });
  assert.deepEqual((objectOf(without.resources[0]) as typeof route).spec.rules[0]!.backendRefs, [{ name: "checkout-v1", port: 8080, weight: 100 }]);
  const needed = translateLinkerd(state({ weights: { v1: 50, v2: 50 } }), { ...ctx, backendPorts: { "checkout-v1": [{ name: "http", port: 8080 }], "checkout-v2": [{ port: 7000 }] } });
  assert.deepEqual(needed.resources, []);
  assert.deepEqual(needed.failed, [{ capabilities: ["weights"], reason: "backend Service checkout-v2 has no port matching checkout's port 80 (name http, targetPort http): none with its name, targetPort or number" }]);
});
