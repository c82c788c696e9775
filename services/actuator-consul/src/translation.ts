import { emptyTranslation as emptyKitTranslation } from "@meshloop/actuator-kit";
import type { ObjectRef, Refusal as KitRefusal, ScaleWrite, Translation as KitTranslation } from "@meshloop/actuator-kit";
import type { ConfigEntry } from "./config-entries.ts";

/** Which config entry: the path `/v1/config/:kind/:name`, and in Consul Enterprise the namespace and partition. */
export interface EntryRef {
  kind: string;
  name: string;
  namespace?: string;
  partition?: string;
}

/**
 * One change, in the form the apply layer needs to make it without clobbering anyone:
 * - `write`: `PUT /v1/config?cas=<cas>`, the whole entry as read with meshloop's fields changed. `cas` is the
 *   ModifyIndex it was read at (0: create only), so a concurrent change makes Consul answer `false` and the actuator
 *   re-reads and translates again.
 * - `delete`: `DELETE /v1/config/:kind/:name?cas=<cas>` of an entry meshloop created and no longer needs.
 * - `scale`: the Kubernetes workload's scale subresource (consul-k8s).
 */
export type ConsulWrite =
  | { action: "write"; entry: ConfigEntry; cas: number }
  | { action: "delete"; ref: EntryRef; cas: number }
  | ScaleWrite;

/** An entry or object another writer manages; meshloop leaves it alone and says so (status `refused`). */
export type Refusal = KitRefusal<EntryRef | ObjectRef>;

/**
 * What a target's desired state becomes in Consul. `resources` are in the order to write them: Consul validates the
 * discovery chain on every write, so subsets exist in the resolver before the splitter names them.
 */
export type Translation = KitTranslation<ConsulWrite, EntryRef | ObjectRef>;

export function emptyTranslation(): Translation {
  return emptyKitTranslation<ConsulWrite, EntryRef | ObjectRef>();
}
