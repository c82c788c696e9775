import assert from "node:assert/strict";
import { test } from "node:test";
import { ValidationError } from "@meshloop/errors";
import { loadPolicies, policyDefaults, policyDefaultsMarkdown, policyWith, selectPolicy } from "../src/index.ts";

const FILE = `# Canaries for the shop, stricter for checkout.
policies:
  - name: shop
    selector:
      namespace: shop
    canary:
      enabled: true
  - name: checkout
    selector:
      namespace: shop
      service: checkout
    guardrails:
      cooldown: 1m
    canary:
      enabled: true
      steps: [1, 5, 20, 100]
      noDataTimeout: 90s
      latency:
        - { quantile: 0.999, tolerance: 0.5 }
    ejection:
      enabled: true
      baseEjectionTime: 15000
`;

test("a policy file loads with every default filled in and durations in milliseconds", () => {
  const [shop, checkout] = loadPolicies(FILE, "shop.yaml");
  assert.equal(shop!.canary.enabled, true);
  assert.deepEqual(shop!.canary.steps, [5, 10, 25, 50, 100]);
  assert.equal(shop!.canary.noDataTimeout, 300_000);
  assert.equal(shop!.ejection.enabled, false);
  assert.equal(checkout!.guardrails.cooldown, 60_000);
  assert.equal(checkout!.canary.noDataTimeout, 90_000);
  assert.deepEqual(checkout!.canary.steps, [1, 5, 20, 100]);
  assert.equal(checkout!.ejection.baseEjectionTime, 15_000);
  assert.equal(checkout!.ejection.successRateStdevFactor, 1.9);
});

test("the most specific matching policy governs a target; none matching leaves it unmanaged", () => {
  const policies = loadPolicies(FILE, "shop.yaml");
  assert.equal(selectPolicy(policies, { mesh: "istio", namespace: "shop", service: "checkout" })?.name, "checkout");
  assert.equal(selectPolicy(policies, { mesh: "istio", namespace: "shop", service: "cart" })?.name, "shop");
  assert.equal(selectPolicy(policies, { mesh: "istio", namespace: "payments", service: "checkout" }), null);
  const labelled = [
    policyWith({ name: "all" }),
    policyWith({ name: "gold", selector: { labels: { tier: "gold" } } }),
  ];
  assert.equal(selectPolicy(labelled, { mesh: "lab", namespace: "a", service: "b" }, { tier: "gold" })?.name, "gold");
  assert.equal(selectPolicy(labelled, { mesh: "lab", namespace: "a", service: "b" }, { tier: "bronze" })?.name, "all");
});

function loadError(text: string): string {
  try {
    loadPolicies(text, "bad.yaml");
  } catch (error) {
    assert.ok(error instanceof ValidationError);
    return error.message;
  }
  assert.fail("expected the file to be refused");
}

test("errors name the file, the path inside it, the line, and what is allowed", () => {
  const cases: [string, RegExp][] = [
    [
      "policies:\n  - name: a\n    canary:\n      steps: [5, 200, 100]\n",
      /^bad\.yaml: policies\[0\]\.canary\.steps\[1\] \(line 4\): Too big: expected number to be <=100/,
    ],
    [
      "policies:\n  - name: a\n    canary:\n      steps: [5, 50]\n",
      /policies\[0\]\.canary\.steps \(line 4\): the last step must be 100 \(promotion\)/,
    ],
    [
      "policies:\n  - name: a\n    canary:\n      enabled: true\n      stepz: [1]\n",
      /policies\[0\]\.canary \(line 3\): unknown key "stepz" \(allowed: enabled, steps, minRequestsPerStep, .*noDataTimeout\)/,
    ],
    [
      "policies:\n  - name: a\n    canary:\n      noDataTimeout: soon\n",
      /policies\[0\]\.canary\.noDataTimeout \(line 4\): must be a duration like 250ms, 30s, 5m or 1h/,
    ],
    [
      "policies:\n  - name: a\n    selector:\n      mesh: kuma\n",
      /policies\[0\]\.selector\.mesh \(line 4\): Invalid option: expected one of "istio"\|"linkerd"\|"consul"\|"lab"/,
    ],
    [
      "policies:\n  - name: a\n    selector:\n      mesh: linkerd\n    backpressure:\n      enabled: true\n",
      /policies\[0\]\.backpressure\.enabled \(line 6\): linkerd cannot carry out backpressure: .*connection-pool limits/,
    ],
    ["policies:\n  - name: a\n  - name: a\n", /policies\[1\]\.name \(line 3\): name "a" is used by policies\[0\] already/],
    ["policies: []\n", /policies \(line 1\): Too small/],
    ["canary: {}\n", /\(top level\) \(line 1\): unknown key "canary"/],
    ["policies:\n  - name: a\n   bad: [\n", /^bad\.yaml \(line \d+, column \d+\): not valid YAML: /],
  ];
  for (const [text, expected] of cases) assert.match(loadError(text), expected);
});

test("the defaults table has a row for every setting and shows the schema's own defaults", () => {
  const rows = policyDefaults();
  const defaults = policyWith() as unknown as Record<string, Record<string, unknown>>;
  const sections = Object.keys(defaults).filter((k) => k !== "name" && k !== "selector");
  assert.ok(sections.includes("scaling"));
  const settings = sections.flatMap((section) => Object.keys(defaults[section]!).map((k) => `${section}.${k}`));
  assert.deepEqual(rows.map((r) => r.setting).sort(), settings.sort());
  const byName = new Map(rows.map((r) => [r.setting, r.default]));
  assert.equal(byName.get("canary.steps"), "[5,10,25,50,100]");
  assert.equal(byName.get("ejection.baseEjectionTime"), "30 s");
  assert.equal(byName.get("ejection.maxEjectionTime"), "5 min");
  assert.equal(byName.get("ejection.successRateStdevFactor"), "1.9");
  assert.equal(byName.get("retries.budgetPercent"), "20");
  assert.equal(byName.get("canary.latency"), "p99 ±25%, p50 ±15%");
  assert.match(policyDefaultsMarkdown(), /^\| setting \| default \| meaning \| source \|/);
});
