import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, isRetriable, MeshloopError, UnavailableError, ValidationError } from "../src/index.ts";

test("subclasses keep their name, cause and context", () => {
  const cause = new Error("ECONNREFUSED");
  const error = new UnavailableError("broker away", { cause, context: { topic: "spans", partition: 3 } });
  assert.ok(error instanceof MeshloopError);
  assert.equal(error.name, "UnavailableError");
  assert.equal(error.cause, cause);
  assert.deepEqual(error.context, { topic: "spans", partition: 3 });
});

test("retriable defaults follow the kind of failure", () => {
  assert.equal(isRetriable(new UnavailableError("x")), true);
  assert.equal(isRetriable(new UnavailableError("x", { retriable: false })), false);
  assert.equal(isRetriable(new ConfigError("x")), false);
  assert.equal(isRetriable(new ValidationError("x")), false);
  assert.equal(isRetriable(new Error("plain")), false);
});
