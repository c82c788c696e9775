import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createLogger } from "@meshloop/runtime";
import type { ConsoleServer } from "../../src/http/console-server.ts";
import { createConsoleServer } from "../../src/http/console-server.ts";
import { EventStream } from "../../src/http/event-stream.ts";
import { consolePage } from "../../src/page/console-page.ts";

let server: ConsoleServer;
let url = "";
const received: unknown[] = [];

before(async () => {
  server = createConsoleServer({
    host: "127.0.0.1",
    port: 0,
    events: new EventStream(),
    logger: createLogger({ service: "console-test", level: "silent" }),
    api: {
      page: consolePage,
      state: async () => ({ ok: true }),
      graph: async () => ({ nodes: [] }),
      initialEvents: async () => [{ event: "snapshot", data: { n: 1 } }],
      control: async (_headers, body) => {
        received.push(body);
        return { status: 401, body: { error: "no" } };
      },
    },
  });
  await server.start();
  url = server.address().url;
});
after(() => server.stop());

test("the page is self-contained: its one script and style carry the nonce the Content-Security-Policy allows", async () => {
  const response = await fetch(`${url}/`);
  assert.equal(response.status, 200);
  const csp = response.headers.get("content-security-policy") ?? "";
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce !== undefined, csp);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  const html = await response.text();
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.ok(html.includes(`<script nonce="${nonce}">`));
  assert.ok(html.includes(`<style nonce="${nonce}">`));
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "nothing is loaded from elsewhere");
  const again = await fetch(`${url}/`);
  assert.notEqual(again.headers.get("content-security-policy"), csp, "a fresh nonce per page");
});

test("unknown paths are 404, wrong methods 405, and a control body past 16 KiB 413", async () => {
  assert.equal((await fetch(`${url}/nope`)).status, 404);
  assert.equal((await fetch(`${url}/api/control`)).status, 405);
  assert.equal((await fetch(`${url}/api/state`, { method: "DELETE" })).status, 405);
  const big = await fetch(`${url}/api/control`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ reason: "x".repeat(20_000) }) });
  assert.equal(big.status, 413);
  assert.deepEqual(received, []);
});

test("a control body that is not declared JSON reaches the handler as undefined; 401 asks for a bearer token", async () => {
  const form = await fetch(`${url}/api/control`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "command=freeze" });
  assert.equal(form.status, 401);
  assert.equal(form.headers.get("www-authenticate"), 'Bearer realm="meshloop-console"');
  await fetch(`${url}/api/control`, { method: "POST", headers: { "content-type": "application/json; charset=utf-8" }, body: '{"command":"freeze"}' });
  assert.deepEqual(received, [undefined, { command: "freeze" }]);
});

test("GET /api/state and /api/graph answer JSON; the event stream opens with its initial events", async () => {
  assert.deepEqual(await (await fetch(`${url}/api/state`)).json(), { ok: true });
  assert.deepEqual(await (await fetch(`${url}/api/graph`)).json(), { nodes: [] });
  const abort = new AbortController();
  const response = await fetch(`${url}/api/events`, { signal: abort.signal });
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("event: snapshot")) text += (await reader.read()).value ?? "";
  assert.match(text, /^retry: 2000\n\n/);
  assert.match(text, /event: snapshot\ndata: \{"n":1\}\n\n/);
  abort.abort();
});
