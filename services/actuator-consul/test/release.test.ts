// Reversibility in the pure translation: the fields meshloop changes in config entries it found are recorded in
// their Meta, and a release (an empty desired state) writes them back; entries meshloop created are deleted.
import assert from "node:assert/strict";
import { test } from "node:test";
import { translateConsul } from "../src/index.ts";
import type { ConfigEntry, ConsulWrite, ServiceDefaults, ServiceResolver, ServiceRouter, ServiceSplitter, Translation } from "../src/index.ts";
import { context, originals, OWNED_META, state, written } from "./fixtures.ts";

const RETRIES = { attempts: 3, perTryTimeoutMs: null, retryOn: ["5xx" as const], retriableStatusCodes: [], budget: null };
const LIMITS = { maxConnections: 100, maxPendingRequests: 10, maxRequests: 200, maxRetries: 3 };

const resolver = (): ServiceResolver => ({ Kind: "service-resolver", Name: "checkout", DefaultSubset: "stable", Subsets: { stable: { Filter: "Service.Meta.track == stable" } }, ModifyIndex: 40 });
const splitter = (): ServiceSplitter => ({ Kind: "service-splitter", Name: "checkout", Meta: { team: "payments" }, Splits: [{ Weight: 100, ServiceSubset: "stable" }], ModifyIndex: 41 });
const router = (): ServiceRouter => ({
  Kind: "service-router",
  Name: "checkout",
  Routes: [
    { Match: { HTTP: { PathPrefix: "/admin" } }, Destination: { Service: "checkout-admin" } },
    { Match: { HTTP: { PathPrefix: "/" } }, Destination: { NumRetries: 1, RequestTimeout: "30s" } },
  ],
  ModifyIndex: 42,
});
const defaults = (): ServiceDefaults => ({ Kind: "service-defaults", Name: "checkout", Protocol: "http", ModifyIndex: 43 });

/** The translation's writes as the next read would see them: each entry with a new index. */
function stored(result: Translation, kind: string, index: number): ConfigEntry {
  return { ...written(result.resources, kind).entry, ModifyIndex: index };
}

function entries(result: Translation): string[] {
  return result.resources.map((w: ConsulWrite) => (w.action === "write" ? `write ${w.entry.Kind}` : w.action === "delete" ? `delete ${w.ref.kind}` : w.action));
}

test("found entries merged into and released are written back as found, the splitter before the resolver, records gone", () => {
  const parts = { weights: { v1: 90, v2: 10 }, retries: RETRIES, requestTimeoutMs: 1500, rateLimit: { requestsPerSecond: 100 } };
  const found = { resolver: resolver(), splitter: splitter(), router: router(), serviceDefaults: defaults() };
  const applied = translateConsul(state(parts), context(found));
  assert.deepEqual(entries(applied), ["write service-resolver", "write service-splitter", "write service-router", "write service-defaults"]);
  assert.deepEqual(originals(written(applied.resources, "service-router").entry), { "Routes[catch-all].Destination": { NumRetries: 1, RequestTimeout: "30s" } });
  const read = {
    resolver: stored(applied, "service-resolver", 50) as ServiceResolver,
    splitter: stored(applied, "service-splitter", 51) as ServiceSplitter,
    router: stored(applied, "service-router", 52) as ServiceRouter,
    serviceDefaults: stored(applied, "service-defaults", 53) as ServiceDefaults,
  };
  const released = translateConsul(state(), context(read));
  assert.deepEqual(entries(released), ["write service-splitter", "write service-resolver", "write service-router", "write service-defaults"], "the splitter stops naming the subsets before they go");
  const strip = <T extends ConfigEntry>(e: T): T => {
    const { ModifyIndex: _m, ...rest } = e;
    return rest as T;
  };
  assert.deepEqual(written(released.resources, "service-splitter"), { cas: 51, entry: strip(splitter()) });
  assert.deepEqual(written(released.resources, "service-resolver"), { cas: 50, entry: strip(resolver()) });
  assert.deepEqual(written(released.resources, "service-router"), { cas: 52, entry: strip(router()) });
  assert.deepEqual(written(released.resources, "service-defaults"), { cas: 53, entry: strip(defaults()) });
  assert.deepEqual(released.warnings, []);
});

test("a second merge keeps the first record's originals; entries meshloop created are deleted on release", () => {
  const first = translateConsul(state({ weights: { v1: 90, v2: 10 } }), context({ splitter: splitter() }));
  assert.deepEqual(written(first.resources, "service-resolver").entry.Meta, OWNED_META, "the resolver is meshloop's own");
  const second = translateConsul(state({ weights: { v1: 50, v2: 50 } }), context({ splitter: stored(first, "service-splitter", 60) as ServiceSplitter, resolver: stored(first, "service-resolver", 59) as ServiceResolver }));
  const split = stored(second, "service-splitter", 61) as ServiceSplitter;
  assert.deepEqual(split.Splits.map((s) => s.Weight), [50, 50]);
  assert.deepEqual(originals(split), { Splits: [{ Weight: 100, ServiceSubset: "stable" }] });
  const released = translateConsul(state(), context({ splitter: split, resolver: stored(first, "service-resolver", 59) as ServiceResolver }));
  assert.deepEqual(released.resources, [
    { action: "write", cas: 61, entry: { Kind: "service-splitter", Name: "checkout", Meta: { team: "payments" }, Splits: [{ Weight: 100, ServiceSubset: "stable" }] } },
    { action: "delete", ref: { kind: "service-resolver", name: "checkout" }, cas: 59 },
  ]);
});

test("a route meshloop appended to a user's router is removed on release", () => {
  const theirs: ServiceRouter = { Kind: "service-router", Name: "checkout", Routes: [{ Match: { HTTP: { PathPrefix: "/admin" } }, Destination: { Service: "checkout-admin" } }], ModifyIndex: 7 };
  const applied = translateConsul(state({ requestTimeoutMs: 800 }), context({ router: theirs }));
  const merged = stored(applied, "service-router", 8) as ServiceRouter;
  assert.equal(merged.Routes?.length, 2);
  assert.deepEqual(originals(merged), { "Routes[catch-all]": undefined });
  const again = stored(translateConsul(state({ requestTimeoutMs: 900, retries: RETRIES }), context({ router: merged })), "service-router", 9) as ServiceRouter;
  assert.deepEqual(originals(again), { "Routes[catch-all]": undefined }, "recorded whole, not field by field");
  const released = translateConsul(state(), context({ router: again }));
  assert.deepEqual(released.resources, [{ action: "write", cas: 9, entry: { Kind: "service-router", Name: "checkout", Routes: theirs.Routes } }]);
});

test("a field changed since meshloop wrote it stays as changed on release, and the warning says so", () => {
  const applied = translateConsul(state({ weights: { v1: 90, v2: 10 } }), context({ splitter: splitter(), resolver: resolver() }));
  const split = { ...(stored(applied, "service-splitter", 70) as ServiceSplitter), Splits: [{ Weight: 100, ServiceSubset: "v2" }] };
  const released = translateConsul(state(), context({ splitter: split, resolver: stored(applied, "service-resolver", 69) as ServiceResolver }));
  assert.deepEqual(written(released.resources, "service-splitter").entry, { Kind: "service-splitter", Name: "checkout", Meta: { team: "payments" }, Splits: [{ Weight: 100, ServiceSubset: "v2" }] });
  // The user's splitter still names v2, so that subset stays in the resolver; v1 goes.
  assert.deepEqual(Object.keys((written(released.resources, "service-resolver").entry as ServiceResolver).Subsets ?? {}), ["stable", "v2"]);
  assert.deepEqual(released.warnings, [
    "service-splitter checkout: Splits changed since meshloop wrote it; kept as changed rather than restored to the original, and the record is removed",
    "service-resolver checkout: subset v2 is still named by the splitter, so it stays",
  ]);
});

test("a caller's override is put back as found; meshloop's own caller entry goes", () => {
  const web: ServiceDefaults = { Kind: "service-defaults", Name: "web", UpstreamConfig: { Overrides: [{ Name: "checkout", Limits: { MaxConnections: 1 } }] }, ModifyIndex: 80 };
  const callers = (w: ServiceDefaults, api: ServiceDefaults | null) => [{ name: "web", defaults: w }, { name: "api", defaults: api }];
  const applied = translateConsul(state({ connectionLimits: LIMITS }), context({ callers: callers(web, null) }));
  const released = translateConsul(state(), context({ callers: callers({ ...written(applied.resources, "service-defaults", "web").entry, ModifyIndex: 81 } as ServiceDefaults, { ...written(applied.resources, "service-defaults", "api").entry, ModifyIndex: 82 } as ServiceDefaults) }));
  const { ModifyIndex: _m, ...asFound } = web;
  assert.deepEqual(released.resources, [
    { action: "write", cas: 81, entry: asFound },
    { action: "delete", ref: { kind: "service-defaults", name: "api" }, cas: 82 },
  ]);
});

test("a record too large for the entry's Meta fails the part and changes nothing; a consul-k8s entry is refused on release", () => {
  const big: ServiceSplitter = { Kind: "service-splitter", Name: "checkout", Splits: Array.from({ length: 100 }, (_, i) => ({ Weight: 1, Service: `checkout-legacy-${i}`, Namespace: "legacy-namespace" })), ModifyIndex: 3 };
  const result = translateConsul(state({ weights: { v1: 100 } }), context({ splitter: big }));
  assert.equal(result.resources.some((w) => w.action === "write" && w.entry.Kind === "service-splitter"), false);
  assert.match(result.failed[0]!.reason, /^service-splitter checkout: meshloop's record of the original \(\d+ characters\) does not fit in 8 Meta values of 512/);

  const applied = translateConsul(state({ rateLimit: { requestsPerSecond: 40 } }), context({ serviceDefaults: defaults() }));
  const crd = stored(applied, "service-defaults", 90);
  crd.Meta = { ...crd.Meta, "external-source": "kubernetes" };
  const released = translateConsul(state(), context({ serviceDefaults: crd as ServiceDefaults }));
  assert.deepEqual(released.resources, []);
  assert.match(released.refused[0]!.reason, /^meshloop's changes to it are not undone: written by consul-k8s/);
});
