import assert from "node:assert/strict";
import { test } from "node:test";
import { SilentTargets } from "../../src/service/silent-targets.ts";

const a = { mesh: "lab" as const, namespace: "shop", service: "a" };
const b = { mesh: "lab" as const, namespace: "shop", service: "b" };

test("a target whose windows stopped while others go on is due at the event-time watermark; then forgotten", () => {
  const silent = new SilentTargets(2, 60_000);
  silent.seen("a", a, 10_000, 5_000);
  silent.seen("b", b, 10_000, 5_000);
  assert.deepEqual(silent.due(), [], "nobody is silent");
  silent.seen("b", b, 15_000, 5_000);
  assert.deepEqual(silent.due(), [], "one window of silence is not yet silence");
  silent.seen("b", b, 20_000, 5_000);
  assert.deepEqual(silent.due(), [a]);
  assert.deepEqual(silent.due(), [], "ticked once at this watermark");
  assert.equal(silent.watermarkMs, 20_000);
  silent.seen("a", a, 25_000, 5_000);
  silent.seen("b", b, 25_000, 5_000);
  assert.deepEqual(silent.due(), [], "a speaks again");
  silent.seen("b", b, 100_000, 5_000);
  assert.deepEqual(silent.due(), [], "silent over an hour-equivalent (60 s here): forgotten");
  assert.equal(silent.size, 1);
});

test("a late (older) window moves neither the target's last window nor the watermark back", () => {
  const silent = new SilentTargets(2);
  silent.seen("a", a, 30_000, 5_000);
  silent.seen("a", a, 20_000, 5_000);
  silent.seen("b", b, 40_000, 5_000);
  assert.equal(silent.watermarkMs, 40_000);
  assert.deepEqual(silent.due(), [a]);
});

test("when every target is silent nothing is due: the watermark stands still", () => {
  const silent = new SilentTargets(2);
  silent.seen("a", a, 30_000, 5_000);
  silent.seen("b", b, 30_000, 5_000);
  assert.deepEqual(silent.due(), []);
});
