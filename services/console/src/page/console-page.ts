import { readFileSync } from "node:fs";
import { MeshloopError } from "@meshloop/errors";

/**
 * The console's one page: HTML with its style and script inline (no framework, nothing fetched from elsewhere), so
 * it works where the console runs without internet access. The browser code lives in plain .js files beside this one,
 * read once, concatenated in dependency order into one script.
 */
const asset = (name: string): string => readFileSync(new URL(name, import.meta.url), "utf8");
const STYLE = asset("./console.css");
const SCRIPT = ["./util.js", "./charts.js", "./graph.js", "./panels.js", "./app.js"].map(asset).join("\n");

// A script text holding "</script" would end the element early; the assets are ours, but a slip must not break it.
if (/<\/script/i.test(SCRIPT) || /<\/style/i.test(STYLE)) throw new MeshloopError("a console asset contains a closing script or style tag", { retriable: false });

/** The page, with `nonce` on its style and script (the Content-Security-Policy allows only those). */
export function consolePage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>meshloop console</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>meshloop console</h1>
  <span id="connection" class="badge bad">connecting…</span>
  <span id="horizon" class="muted"></span>
  <span class="spacer"></span>
  <span id="freeze-state" class="freeze-state muted">freeze state unknown</span>
  <input id="freeze-reason" type="text" placeholder="freeze reason" aria-label="freeze reason">
  <button id="freeze-toggle" type="button" disabled>Freeze</button>
  <span id="token-box" hidden><label>token <input id="token" type="password" autocomplete="off" aria-label="console token"></label> <button id="token-save" type="button">Use</button></span>
  <span id="readonly-note" class="muted">read-only</span>
  <span id="status" class="status" role="status" aria-live="polite"></span>
</header>
<main>
  <section id="graph-panel">
    <h2>Dependency graph <small id="graph-source"></small></h2>
    <svg id="graph" role="img" aria-label="dependency graph" viewBox="0 0 400 60"></svg>
  </section>
  <section id="pending-panel">
    <h2>Pending proposals</h2>
    <div id="pending" class="cards"></div>
  </section>
  <section id="canaries-panel">
    <h2>Canaries <small>commanded weights per decision</small></h2>
    <div id="canaries" class="cards"></div>
  </section>
  <section id="timeline-panel">
    <h2>Decision timeline <small id="history-note"></small></h2>
    <div class="filters">
      <select id="filter-service" aria-label="filter by service"><option value="">all services</option></select>
      <select id="filter-controller" aria-label="filter by controller"><option value="">all controllers</option></select>
    </div>
    <ol id="timeline"></ol>
  </section>
  <section id="signals-panel" class="wide-section">
    <h2>Golden signals <small>per service and version, last 10 minutes of event time</small></h2>
    <div id="signals" class="cards"></div>
  </section>
</main>
<script nonce="${nonce}">
${SCRIPT}
</script>
</body>
</html>
`;
}
