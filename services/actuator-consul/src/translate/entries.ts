import type { CapabilityPart, TargetRef } from "@meshloop/contracts";
import { findEntryController, forWrite, MANAGED_BY_META, MESHLOOP } from "../config-entries.ts";
import type { ConfigEntry, ConfigEntryBase } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import type { EntryRef, Translation } from "../translation.ts";

/** The identity of a new entry meshloop creates: the target's name, namespace and partition, and meshloop's mark. */
export function newEntry<K extends string>(kind: K, name: string, context: Pick<ConsulContext, "namespace" | "partition">): ConfigEntryBase & { Kind: K } {
  return {
    Kind: kind,
    Name: name,
    ...(context.namespace === undefined ? {} : { Namespace: context.namespace }),
    ...(context.partition === undefined ? {} : { Partition: context.partition }),
    Meta: { [MANAGED_BY_META]: MESHLOOP },
  };
}

export function entryRef(entry: ConfigEntryBase): EntryRef {
  return {
    kind: entry.Kind,
    name: entry.Name,
    ...(entry.Namespace === undefined ? {} : { namespace: entry.Namespace }),
    ...(entry.Partition === undefined ? {} : { partition: entry.Partition }),
  };
}

/** Whether another writer (consul-k8s, a tool's `managed-by`) owns the entry; if so the refusal is recorded. */
export function refusedByOwner(out: Translation, entry: ConfigEntryBase | null, capabilities: CapabilityPart[], prefix = ""): boolean {
  const reason = findEntryController(entry);
  if (entry === null || reason === null) return false;
  out.refused.push({ ref: entryRef(entry), capabilities, reason: `${prefix}${reason}` });
  return true;
}

/**
 * Queues the write of `after` with `before`'s ModifyIndex as the check-and-set index (0 creates only). An entry that
 * would not change is not written: every write moves its index and makes other writers retry for nothing.
 */
export function writeEntry(out: Translation, before: ConfigEntry | null, after: ConfigEntry): void {
  if (before !== null && JSON.stringify(forWrite(before)) === JSON.stringify(forWrite(after))) return;
  out.resources.push({ action: "write", entry: forWrite(after), cas: before?.ModifyIndex ?? 0 });
}

/**
 * A release's write of an entry: the found entry as meshloop found it (`entry`), or deleted (`entry` null, meshloop's
 * own), each check-and-set against what was read. An entry another writer now owns is not written even to undo
 * meshloop's change: it is reported refused, so the operator knows what stays.
 */
export function releaseEntry(out: Translation, found: ConfigEntry, result: { entry: ConfigEntry | null; notes: string[] } | null): void {
  if (result === null) return;
  if (refusedByOwner(out, found, [], "meshloop's changes to it are not undone: ")) return;
  out.warnings.push(...result.notes);
  if (result.entry === null) deleteEntry(out, found);
  else writeEntry(out, found, result.entry);
}

export function deleteEntry(out: Translation, entry: ConfigEntry): void {
  out.resources.push({ action: "delete", ref: entryRef(entry), cas: entry.ModifyIndex ?? 0 });
}

export function targetName(target: TargetRef): string {
  return target.service;
}
