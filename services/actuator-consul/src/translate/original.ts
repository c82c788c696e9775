import { recordMerge, restorationNotes, restoreFields } from "@meshloop/actuator-kit";
import type { FieldAccess, FieldValues } from "@meshloop/actuator-kit";
import { isOwnedEntry } from "../config-entries.ts";
import type { ConfigEntryBase } from "../config-entries.ts";

/**
 * Reversibility of what meshloop merges into a config entry it found (a user's splitter, resolver, router or
 * service-defaults): the fields it changes are recorded as found, field by field (@meshloop/actuator-kit's record:
 * the original and a digest of what meshloop last wrote), and a release writes them back with check-and-set.
 *
 * Where the record lives: in the entry's own Meta, under `meshloop-original-1`, `-2`, ... (a value holds at most
 * 512 characters, so a longer record is cut into pieces, at most 8). Not in the actuator's store (Redis): a record in
 * the entry is written by the same check-and-set as the change it describes, so there is never a change without its
 * record nor a record of a write that failed, it survives a wipe of meshloop's state, and `consul config read` shows
 * it to an operator. A record too large for 8 pieces (an entry with very many fields meshloop changed) is refused:
 * the part fails with the reason rather than change what it could not undo. Entries meshloop created (Meta
 * `managed-by: meshloop`) carry no record: a release deletes them.
 */
export const ORIGINAL_META_PREFIX = "meshloop-original-";
// Consul's limit on a Meta value, and a share of its 64 keys that leaves the user theirs.
const META_VALUE_LIMIT = 512;
const MAX_PIECES = 8;
const PIECE = /^meshloop-original-(\d+)$/;

/** The record's text, its pieces joined in order; undefined when there is none. */
export function recordText(meta: Readonly<Record<string, string>> | undefined): string | undefined {
  const pieces = Object.entries(meta ?? {})
    .flatMap(([key, value]) => {
      const n = PIECE.exec(key)?.[1];
      return n === undefined ? [] : [{ n: Number(n), value }];
    })
    .sort((a, b) => a.n - b.n);
  return pieces.length === 0 ? undefined : pieces.map((p) => p.value).join("");
}

/** Replaces the record in the entry's Meta (null removes it; an emptied Meta goes); the reason when it does not fit. */
export function setRecordText(entry: ConfigEntryBase, text: string | null): string | null {
  const meta: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry.Meta ?? {})) if (!PIECE.test(key)) meta[key] = value;
  if (text !== null) {
    const count = Math.ceil(text.length / META_VALUE_LIMIT);
    if (count > MAX_PIECES) return `meshloop's record of the original (${text.length} characters) does not fit in ${MAX_PIECES} Meta values of ${META_VALUE_LIMIT}; not changed, as it could not be restored`;
    for (let i = 0; i < count; i++) meta[`${ORIGINAL_META_PREFIX}${i + 1}`] = text.slice(i * META_VALUE_LIMIT, (i + 1) * META_VALUE_LIMIT);
  }
  if (Object.keys(meta).length > 0) entry.Meta = meta;
  else delete entry.Meta;
  return null;
}

/**
 * Records in `entry` (the merge result, about to be written) the fields it sets (`after`) over their values in
 * `found`, the entry as read. Entries meshloop created are not recorded. Answers the reason when it cannot (the
 * caller names the entry).
 */
export function recordEntryMerge(found: ConfigEntryBase | null, entry: ConfigEntryBase, before: FieldValues, after: FieldValues): string | null {
  if (found === null || isOwnedEntry(found)) return null;
  const update = recordMerge(recordText(found.Meta), before, after);
  return update.ok ? setRecordText(entry, update.text) : update.reason;
}

/** Whether a found entry carries meshloop's record, i.e. a release has something to put back. */
export function hasEntryRecord(entry: ConfigEntryBase | null): entry is ConfigEntryBase {
  return entry !== null && !isOwnedEntry(entry) && recordText(entry.Meta) !== undefined;
}

/**
 * The found entry with meshloop's recorded fields put back and the record removed; null when it has no record.
 * `fields` locates the recorded fields in the copy it is given; `skip` vetoes a field unsafe to restore now. A field
 * someone changed since meshloop wrote it stays as they made it, and `notes` says so.
 */
export function restoreEntry<T extends ConfigEntryBase>(
  found: T | null,
  fields: (copy: T) => ReadonlyMap<string, FieldAccess>,
  skip: (field: string) => boolean = () => false,
): { entry: T; notes: string[] } | null {
  if (!hasEntryRecord(found)) return null;
  const copy = structuredClone(found);
  const text = recordText(found.Meta);
  const restoration = restoreFields(text, fields(copy), skip);
  setRecordText(copy, null);
  return { entry: copy, notes: restorationNotes(`${found.Kind} ${found.Name}`, restoration) };
}

/** Accessors of a field that is a plain key of a record; `undefined` deletes the key. */
export function keyAccess(record: Record<string, unknown>, key: string): FieldAccess {
  return {
    get: () => record[key],
    set: (value) => {
      if (value === undefined) delete record[key];
      else record[key] = value;
    },
  };
}
