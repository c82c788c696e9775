import type { DeniedCaller } from "@meshloop/contracts";
import type { IntentionSource, ServiceIntentions } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { newEntry } from "./entries.ts";

/**
 * Isolation in Consul: a `deny` source in the target's service-intentions. An exact source outranks the user's
 * wildcard `*` allow, so denying one caller needs nothing else changed. Where the user had a source of their own for
 * that caller, meshloop replaces it and records it in the entry's Meta (`meshloop-denied-<name>`), so that ending the
 * denial puts it back as it was; a source meshloop added is removed.
 */
export const DENIED_META_PREFIX = "meshloop-denied-";
const ABSENT = "absent";
// Consul caps a Meta value at 512 characters; a prior source that does not fit cannot be restored faithfully.
const META_VALUE_LIMIT = 512;

/** The caller's Consul service name: given, or read from a Consul SPIFFE id (`.../svc/<name>`). */
export function consulServiceName(caller: DeniedCaller): string | null {
  if (caller.service !== undefined) return caller.service;
  const match = /^spiffe:\/\/[^/]+\/ns\/[^/]+\/dc\/[^/]+\/svc\/([^/]+)$/.exec(caller.identity);
  return match === null ? null : match[1]!;
}

export interface IntentionsResult {
  entry: ServiceIntentions;
  /** Callers that could not be denied, with why. */
  blocked: { identity: string; reason: string }[];
}

export function mergeIntentions(
  existing: ServiceIntentions | null,
  name: string,
  context: ConsulContext,
  denied: readonly { caller: DeniedCaller; service: string }[],
): IntentionsResult {
  const entry: ServiceIntentions = existing === null ? { ...newEntry("service-intentions", name, context) } : structuredClone(existing);
  const meta = { ...entry.Meta };
  let sources = [...(entry.Sources ?? [])];
  const blocked: IntentionsResult["blocked"] = [];
  const deniedNames = new Set(denied.map((d) => d.service));

  // Denials that ended: the recorded source comes back, or meshloop's goes.
  for (const key of Object.keys(meta).filter((k) => k.startsWith(DENIED_META_PREFIX)).sort()) {
    const source = key.slice(DENIED_META_PREFIX.length);
    if (deniedNames.has(source)) continue;
    const prior = meta[key]!;
    sources = sources.filter((s) => !isSource(s, source));
    if (prior !== ABSENT) sources.push(JSON.parse(prior) as IntentionSource);
    delete meta[key];
  }

  for (const { caller, service } of [...denied].sort((a, b) => (a.service < b.service ? -1 : 1))) {
    const key = `${DENIED_META_PREFIX}${service}`;
    const description = `meshloop: ${caller.reason}${caller.leaseExpiresAt === undefined ? "" : ` (until ${caller.leaseExpiresAt})`}`;
    const current = sources.find((s) => isSource(s, service));
    if (meta[key] === undefined) {
      if (current?.Action === "deny") continue;
      const prior = current === undefined ? ABSENT : JSON.stringify(current);
      if (prior.length > META_VALUE_LIMIT) {
        blocked.push({ identity: caller.identity, reason: `the user's intention source for ${service} is too large to record for restoring` });
        continue;
      }
      meta[key] = prior;
    }
    sources = sources.filter((s) => !isSource(s, service));
    sources.push({ Name: service, Action: "deny", Description: description });
  }
  // A user's entry found without sources goes back without them once meshloop's denials end.
  if (sources.length === 0 && existing !== null && existing.Sources === undefined) delete entry.Sources;
  else entry.Sources = sources;
  if (Object.keys(meta).length > 0) entry.Meta = meta;
  else delete entry.Meta;
  return { entry, blocked };
}

/** Whether the entry holds nothing but what meshloop put there. */
export function onlyMeshloops(entry: ServiceIntentions): boolean {
  return (entry.Sources ?? []).length === 0 && Object.keys(entry.Meta ?? {}).every((k) => k === "managed-by");
}

function isSource(source: IntentionSource, name: string): boolean {
  return source.Name === name && source.Peer === undefined;
}
