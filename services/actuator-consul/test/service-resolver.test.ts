import assert from "node:assert/strict";
import { test } from "node:test";
import { capabilityOf } from "@meshloop/contracts";
import { translateConsul } from "../src/index.ts";
import type { ServiceResolver, ServiceSplitter } from "../src/index.ts";
import { context, originals, OWNED_META, state, withoutRecords, written } from "./fixtures.ts";

const TARGETS = { "us-west1": { Datacenter: "dc-west" }, "eu-west1": { Peer: "eu-cluster" } };

test("failover becomes the resolver's wildcard Failover targets, in order, zones falling back to their region", () => {
  const failover = { kind: "failover" as const, fromLocality: "us-east1", toLocalities: ["us-west1/b", "eu-west1"] };
  const result = translateConsul(state({ failover }), context({ localityTargets: TARGETS }));
  assert.deepEqual(result.resources, [
    { action: "write", cas: 0, entry: { Kind: "service-resolver", Name: "checkout", Meta: OWNED_META, Failover: { "*": { Targets: [{ Datacenter: "dc-west" }, { Peer: "eu-cluster" }] } } } },
  ]);
  assert.ok(result.warnings.some((w) => w.includes("not only from us-east1")));
});

test("a user's per-subset failover stays; the wildcard is meshloop's", () => {
  const user: ServiceResolver = { Kind: "service-resolver", Name: "checkout", Failover: { v1: { Targets: [{ Datacenter: "dc9" }] } }, ModifyIndex: 4 };
  const failover = { kind: "failover" as const, fromLocality: "us-east1", toLocalities: ["us-west1"] };
  const result = translateConsul(state({ failover }), context({ resolver: user, localityTargets: TARGETS }));
  assert.deepEqual(originals(written(result.resources, "service-resolver").entry), { "Failover.*": undefined });
  assert.deepEqual(withoutRecords([written(result.resources, "service-resolver")])[0], {
    cas: 4,
    entry: { Kind: "service-resolver", Name: "checkout", Failover: { v1: { Targets: [{ Datacenter: "dc9" }] }, "*": { Targets: [{ Datacenter: "dc-west" }] } } },
  });
});

test("weighted distribution and unmapped localities are unsupported with the reason", () => {
  const distribute = { kind: "distribute" as const, fromLocality: "us-east1", distribution: { "us-east1": 80, "us-west1": 20 } };
  const a = translateConsul(state({ failover: distribute }), context({ localityTargets: TARGETS }));
  assert.deepEqual(a.unsupported, [{ capability: "localityFailover", reason: "Consul's resolver fails over in order; it has no weighted distribution over localities" }]);
  assert.match((capabilityOf("consul", "localityFailover") as { limits: string }).limits, /no weighted distribution/);
  const b = translateConsul(state({ failover: { kind: "failover", fromLocality: "us-east1", toLocalities: ["ap-south1"] } }), context({ localityTargets: TARGETS }));
  assert.deepEqual(b.unsupported, [{ capability: "localityFailover", reason: "no Consul datacenter, peer or partition is configured for ap-south1" }]);
  assert.deepEqual(b.resources, []);
});

test("on release meshloop's resolver keeps only the subsets a splitter still names, and goes when none is left", () => {
  const owned: ServiceResolver = { Kind: "service-resolver", Name: "checkout", Meta: OWNED_META, Subsets: { v1: { Filter: 'Service.Meta.version == "v1"' }, v2: { Filter: 'Service.Meta.version == "v2"' } }, Failover: { "*": { Targets: [{ Datacenter: "dc-west" }] } }, ModifyIndex: 6 };
  // The user's own splitter (no record of meshloop's) names v1: that subset must outlive the release.
  const theirs: ServiceSplitter = { Kind: "service-splitter", Name: "checkout", Splits: [{ Weight: 100, ServiceSubset: "v1" }], ModifyIndex: 5 };
  assert.deepEqual(translateConsul(state(), context({ resolver: owned, splitter: theirs })).resources, [
    { action: "write", cas: 6, entry: { Kind: "service-resolver", Name: "checkout", Meta: OWNED_META, Subsets: { v1: { Filter: 'Service.Meta.version == "v1"' } } } },
  ]);
  assert.deepEqual(translateConsul(state(), context({ resolver: owned })).resources, [{ action: "delete", ref: { kind: "service-resolver", name: "checkout" }, cas: 6 }]);
  const onlyFailover = { ...owned, Subsets: undefined };
  assert.deepEqual(translateConsul(state(), context({ resolver: onlyFailover })).resources, [{ action: "delete", ref: { kind: "service-resolver", name: "checkout" }, cas: 6 }]);
});
