import { callerIdentity } from "@meshloop/contracts";
import type { DeniedCaller, Evidence, TargetRef, WindowAggregate } from "@meshloop/contracts";
import type { ControllerOutput, Proposal } from "../controller.ts";
import { noAction } from "../controller.ts";
import { duration, iso, pct, stat } from "../format.ts";
import type { SecurityPolicy } from "../policy/schema.ts";
import type { WindowView } from "../windows.ts";
import { newerThan, windowViews } from "../windows.ts";

/**
 * Caller isolation. Three kinds of evidence against one caller of the target (its inbound edges):
 * - a never-seen caller of a service marked sensitive, once the learning period is over. First-seen times live in
 *   the target's state in Redis, not in the dependency graph, so its TTL never makes an old caller new again;
 * - a spike of 401/403 answers: at least `minAuthFailures`, `authFailureShare` of its requests and
 *   `authFailureSpikeFactor` times its usual share (so a caller that always fails auth is not an incident each window);
 * - a request-rate anomaly: robust z = (rate - EWMA) / (1.4826 x EWMA of absolute deviations) over `rateZScore`,
 *   judged after `baselineWindows` windows; anomalous windows do not feed the baseline, so a flood cannot teach it.
 * The action is a denial of that caller with a lease. In `propose` mode it is published with requiresApproval and
 * waits for `meshloop approve` (kept aside until then, see approval.ts); in `enforce` mode it is
 * applied. One caller per decision; a caller proposed or denied is not proposed again while that stands.
 */

export interface CallerRecord {
  readonly caller: string;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly windows: number;
  /** EWMA of requests per second, and of its absolute deviation. */
  readonly rate: number;
  readonly deviation: number;
  /** EWMA of the share of its requests answered 401/403. */
  readonly authShare: number;
}

export interface SecurityState {
  readonly lastWindowEndMs: number | null;
  /** When meshloop started watching the target: the learning period runs from here. */
  readonly watchingSinceMs: number | null;
  readonly callers: readonly CallerRecord[];
}

export interface SecuritySettings extends SecurityPolicy {
  readonly target: TargetRef;
  /** The denials in force (leases not run out): kept, and their callers not proposed again. */
  readonly denied: readonly DeniedCaller[];
  /** Callers (`namespace/service`) awaiting approval of a denial, or whose denial an operator rejected lately. */
  readonly suppressed: ReadonlySet<string>;
}

interface Suspect {
  readonly caller: string;
  readonly service: string;
  readonly namespace: string;
  readonly why: string;
  readonly evidence: Evidence;
}

// A caller not seen for this long is forgotten only if it was seen in a single window (a scan), never otherwise:
// first-seen times are the point of this state.
const FORGET_ONE_OFF_MS = 7 * 86_400_000;

export function initialSecurityState(): SecurityState {
  return { lastWindowEndMs: null, watchingSinceMs: null, callers: [] };
}

export function securityController(state: SecurityState, windows: readonly WindowAggregate[], policy: SecuritySettings, now: number): ControllerOutput<SecurityState> {
  const views = newerThan(windowViews(windows), state.lastWindowEndMs);
  let s: SecurityState = { ...state, lastWindowEndMs: views[views.length - 1]?.endMs ?? state.lastWindowEndMs };
  if (!policy.enabled) return noAction(s, "caller isolation is disabled by policy");
  const suspects: Suspect[] = [];
  for (const view of views) {
    if (!view.complete) continue;
    if (s.watchingSinceMs === null) s = { ...s, watchingSinceMs: view.startMs };
    const judged = judgeWindow(s, view, policy);
    s = judged.state;
    suspects.push(...judged.suspects);
  }
  s = { ...s, callers: s.callers.filter((c) => c.windows > 1 || now - c.lastSeenMs < FORGET_ONE_OFF_MS) };
  const handled = new Set([...policy.suppressed, ...policy.denied.map((d) => `${d.namespace ?? policy.target.namespace}/${d.service ?? d.identity}`)]);
  const suspect = suspects.find((x) => !handled.has(x.caller));
  if (suspect === undefined) {
    const learning = s.watchingSinceMs !== null && now - s.watchingSinceMs < policy.learningPeriod;
    return noAction(s, learning ? `learning the callers until ${iso(s.watchingSinceMs! + policy.learningPeriod)}` : "no caller shows new, failing-auth or anomalous traffic");
  }
  const denied: DeniedCaller = {
    identity: callerIdentity({ service: suspect.service, namespace: suspect.namespace }, { identityTemplate: "spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccount}", trustDomain: policy.trustDomain }),
    service: suspect.service,
    namespace: suspect.namespace,
    reason: suspect.why,
    leaseExpiresAt: iso(now + policy.denyLeaseTime),
  };
  const propose = policy.mode === "propose";
  const proposal: Proposal = {
    controller: "security",
    kind: "security",
    // The full list: a decision is a whole desired state.
    parts: { deniedCallers: [...policy.denied, denied] },
    urgent: false,
    requiresApproval: propose,
  };
  const verb = propose ? "proposing to deny it (awaiting approval)" : "denying it";
  const reason = `Caller ${suspect.caller} ${suspect.why}; ${verb} for ${duration(policy.denyLeaseTime)}.`;
  return { state: s, heldState: s, proposal, evidence: [suspect.evidence], reason };
}

function judgeWindow(state: SecurityState, view: WindowView, policy: SecuritySettings): { state: SecurityState; suspects: Suspect[] } {
  const seconds = (view.endMs - view.startMs) / 1000;
  const window = { startMs: view.startMs, endMs: view.endMs };
  const traffic = new Map<string, { service: string; namespace: string; requests: number; authFailures: number }>();
  for (const part of view.parts) {
    for (const edge of part.inbound) {
      const namespace = edge.caller.namespace ?? policy.target.namespace;
      const key = `${namespace}/${edge.caller.service}`;
      const t = traffic.get(key) ?? { service: edge.caller.service, namespace, requests: 0, authFailures: 0 };
      t.requests += edge.counters.requests;
      t.authFailures += edge.counters.status["401"] + edge.counters.status["403"];
      traffic.set(key, t);
    }
  }
  const learning = view.startMs - state.watchingSinceMs! < policy.learningPeriod;
  const records = new Map(state.callers.map((c) => [c.caller, c]));
  const suspects: Suspect[] = [];
  for (const [caller, t] of [...traffic].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (t.requests <= 0) continue;
    const rate = t.requests / seconds;
    const share = t.authFailures / t.requests;
    const known = records.get(caller);
    const base = { caller, service: t.service, namespace: t.namespace };
    if (known === undefined) {
      records.set(caller, { caller, firstSeenMs: view.startMs, lastSeenMs: view.endMs, windows: 1, rate, deviation: 0, authShare: share });
      if (policy.sensitive && !learning) {
        suspects.push({ ...base, why: `called the sensitive service for the first time (${stat(rate)} req/s)`, evidence: { metric: "caller-first-seen", value: rate, window, note: `never seen since ${iso(state.watchingSinceMs!)}` } });
      }
      continue;
    }
    let anomalous = false;
    if (t.authFailures >= policy.minAuthFailures && share >= policy.authFailureShare && share >= policy.authFailureSpikeFactor * known.authShare) {
      anomalous = true;
      suspects.push({ ...base, why: `got ${Math.round(t.authFailures)} 401/403 answers (${pct(share)} of its requests, usually ${pct(known.authShare)})`, evidence: { metric: "caller-auth-failures", value: share, threshold: policy.authFailureShare, comparison: ">=", window, statistic: "401+403 share" } });
    }
    const spread = 1.4826 * known.deviation + 0.05 * known.rate + 1e-9;
    const z = (rate - known.rate) / spread;
    if (!anomalous && known.windows >= policy.baselineWindows && rate >= policy.minAnomalousRate && z > policy.rateZScore) {
      anomalous = true;
      suspects.push({ ...base, why: `sent ${stat(rate)} req/s against a usual ${stat(known.rate)} (robust z ${stat(z)})`, evidence: { metric: "caller-rate-z", value: z, threshold: policy.rateZScore, comparison: ">", window, statistic: "robust z over EWMA", note: `${stat(rate)} req/s` } });
    }
    const a = policy.ewmaAlpha;
    records.set(caller, {
      ...known,
      lastSeenMs: view.endMs,
      windows: known.windows + 1,
      // Anomalous windows are kept out of the baseline: an attacker must not teach it.
      rate: anomalous ? known.rate : known.windows === 1 ? (known.rate + rate) / 2 : (1 - a) * known.rate + a * rate,
      deviation: anomalous ? known.deviation : (1 - a) * known.deviation + a * Math.abs(rate - known.rate),
      authShare: anomalous ? known.authShare : (1 - a) * known.authShare + a * share,
    });
  }
  return { state: { ...state, callers: [...records.values()].sort((x, y) => (x.caller < y.caller ? -1 : 1)) }, suspects };
}
