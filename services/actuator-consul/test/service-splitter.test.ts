import assert from "node:assert/strict";
import { test } from "node:test";
import { translateConsul } from "../src/index.ts";
import type { ServiceResolver, ServiceSplitter } from "../src/index.ts";
import { context, originals, OWNED_META, state, withoutRecords, written } from "./fixtures.ts";

function userResolver(): ServiceResolver {
  return {
    Kind: "service-resolver",
    Name: "checkout",
    DefaultSubset: "stable",
    Subsets: { stable: { Filter: "Service.Meta.track == stable", OnlyPassing: true } },
    ConnectTimeout: "5s",
    CreateIndex: 10,
    ModifyIndex: 42,
  };
}

test("weights become a resolver with version subsets, then a splitter with float weights summing to 100", () => {
  const result = translateConsul(state({ weights: { v2: 10, v1: 90 } }), context());
  assert.deepEqual(result.resources, [
    {
      action: "write",
      cas: 0,
      entry: {
        Kind: "service-resolver",
        Name: "checkout",
        Meta: OWNED_META,
        Subsets: { v1: { Filter: 'Service.Meta.version == "v1"' }, v2: { Filter: 'Service.Meta.version == "v2"' } },
      },
    },
    {
      action: "write",
      cas: 0,
      entry: {
        Kind: "service-splitter",
        Name: "checkout",
        Meta: OWNED_META,
        Splits: [
          { Weight: 90, ServiceSubset: "v1" },
          { Weight: 10, ServiceSubset: "v2" },
        ],
      },
    },
  ]);
  assert.deepEqual(result.unsupported, []);
});

test("a version without traffic has its subset but no split", () => {
  const result = translateConsul(state({ weights: { v1: 100, v2: 0 } }), context());
  assert.deepEqual((written(result.resources, "service-splitter").entry as ServiceSplitter).Splits, [{ Weight: 100, ServiceSubset: "v1" }]);
  assert.deepEqual(Object.keys((written(result.resources, "service-resolver").entry as ServiceResolver).Subsets!), ["v1", "v2"]);
});

test("in a user's resolver meshloop adds its subsets; the default subset, the user's subsets and timeouts stay, cas is its index", () => {
  const user = userResolver();
  const result = translateConsul(state({ weights: { v1: 50, v2: 50 } }), context({ resolver: user }));
  assert.deepEqual(originals(written(result.resources, "service-resolver").entry), { "Subsets.v1": undefined, "Subsets.v2": undefined }, "the subsets meshloop added, absent before");
  assert.deepEqual(withoutRecords([written(result.resources, "service-resolver")])[0], {
    cas: 42,
    entry: {
      Kind: "service-resolver",
      Name: "checkout",
      DefaultSubset: "stable",
      Subsets: {
        stable: { Filter: "Service.Meta.track == stable", OnlyPassing: true },
        v1: { Filter: 'Service.Meta.version == "v1"' },
        v2: { Filter: 'Service.Meta.version == "v2"' },
      },
      ConnectTimeout: "5s",
    },
  });
  assert.deepEqual(user, userResolver(), "the entry read from Consul is not mutated");
});

test("a user's subset of the same name keeps its filter, with a warning; version strings are quoted literally", () => {
  const user = { ...userResolver(), Subsets: { v2: { Filter: "Service.Tags contains canary" } } };
  const result = translateConsul(state({ weights: { v2: 60, 'we"ird': 40 } }), context({ resolver: user, resolution: { subsetTemplate: "{version}" } }));
  const subsets = (written(result.resources, "service-resolver").entry as ServiceResolver).Subsets!;
  assert.deepEqual(subsets["v2"], { Filter: "Service.Tags contains canary" });
  assert.deepEqual(subsets["we-ird"], { Filter: 'Service.Meta.version == "we\\"ird"' });
  assert.ok(result.warnings.some((w) => w.startsWith("subset v2 keeps the user's filter")));
});

test("a user's splitter keeps its Meta; its splits are the versions' now, and splits to other services are named", () => {
  const user: ServiceSplitter = { Kind: "service-splitter", Name: "checkout", Meta: { team: "payments" }, Splits: [{ Weight: 100, Service: "checkout-legacy" }], ModifyIndex: 7 };
  const result = translateConsul(state({ weights: { v1: 100 } }), context({ splitter: user }));
  assert.deepEqual(originals(written(result.resources, "service-splitter").entry), { Splits: [{ Weight: 100, Service: "checkout-legacy" }] });
  assert.deepEqual(withoutRecords([written(result.resources, "service-splitter")])[0], { cas: 7, entry: { Kind: "service-splitter", Name: "checkout", Meta: { team: "payments" }, Splits: [{ Weight: 100, ServiceSubset: "v1" }] } });
  assert.ok(result.warnings.includes("the user's splits to checkout-legacy are replaced by the versions' weights"));
});

test("an unchanged entry is not written again: its index stays and no one retries for nothing", () => {
  const first = translateConsul(state({ weights: { v1: 90, v2: 10 } }), context());
  const resolver = { ...(written(first.resources, "service-resolver").entry as ServiceResolver), ModifyIndex: 100 };
  const splitter = { ...(written(first.resources, "service-splitter").entry as ServiceSplitter), ModifyIndex: 101 };
  assert.deepEqual(translateConsul(state({ weights: { v1: 90, v2: 10 } }), context({ resolver, splitter })).resources, []);
});

test("a tcp service cannot split: the weights fail with the remedy and nothing is written", () => {
  const result = translateConsul(state({ weights: { v1: 90, v2: 10 } }), context({ protocol: null }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.failed, [
    { capabilities: ["weights"], reason: "service-splitter and service-router need an HTTP or gRPC protocol and checkout is tcp; set Protocol in its service-defaults (or proxy-defaults)" },
  ]);
});

test("a resolver consul-k8s reconciles is refused, and no splitter names subsets that were never written", () => {
  const crd = { ...userResolver(), Meta: { "external-source": "kubernetes", "consul.hashicorp.com/source-datacenter": "dc1" } };
  const result = translateConsul(state({ weights: { v1: 90, v2: 10 } }), context({ resolver: crd }));
  assert.deepEqual(result.resources, []);
  assert.deepEqual(result.refused, [
    {
      ref: { kind: "service-resolver", name: "checkout" },
      capabilities: ["weights"],
      reason: "written by consul-k8s from a Kubernetes resource in datacenter dc1, which it would restore; change the custom resource instead",
    },
  ]);
});

test("weights no longer managed delete meshloop's splitter, then its resolver, whose subsets nothing names any more", () => {
  const splitter: ServiceSplitter = { Kind: "service-splitter", Name: "checkout", Meta: OWNED_META, Splits: [{ Weight: 100, ServiceSubset: "v1" }], ModifyIndex: 9 };
  const resolver: ServiceResolver = { Kind: "service-resolver", Name: "checkout", Meta: OWNED_META, Subsets: { v1: { Filter: 'Service.Meta.version == "v1"' } }, ModifyIndex: 8 };
  assert.deepEqual(translateConsul(state(), context({ splitter, resolver })).resources, [
    { action: "delete", ref: { kind: "service-splitter", name: "checkout" }, cas: 9 },
    { action: "delete", ref: { kind: "service-resolver", name: "checkout" }, cas: 8 },
  ]);
});
