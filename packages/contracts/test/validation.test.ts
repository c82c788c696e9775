import assert from "node:assert/strict";
import { test } from "node:test";
import { ValidationError } from "@meshloop/errors";
import { z } from "zod";
import { formatIssues, parseOrThrow } from "../src/index.ts";

test("issues render as one line with JS paths, capped at five", () => {
  const schema = z.object({ items: z.array(z.object({ n: z.int() })) });
  const result = schema.safeParse({ items: [{ n: 1 }, { n: "x" }] });
  assert.match(formatIssues(result.error!), /^items\[1\]\.n: /);
  const many = z.array(z.string()).safeParse([1, 2, 3, 4, 5, 6, 7]);
  assert.match(formatIssues(many.error!), /; and 2 more$/);
  assert.match(formatIssues(z.string().safeParse(1).error!), /^\(root\): /);
});

test("parseOrThrow throws a non-retriable ValidationError naming the contract and keeping the cause", () => {
  assert.equal(parseOrThrow(z.int(), 3, "count"), 3);
  assert.throws(
    () => parseOrThrow(z.int(), "3", "count", { topic: "t" }),
    (e: unknown) =>
      e instanceof ValidationError &&
      /^invalid count: \(root\): /.test(e.message) &&
      !e.retriable &&
      e.context["topic"] === "t" &&
      e.cause instanceof z.ZodError,
  );
});
