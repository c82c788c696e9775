import { isDeepStrictEqual } from "node:util";
import type { ApplyOptions, ApplyOutcome, MeshApplier } from "@meshloop/actuator-runtime";
import { unsupportedParts } from "@meshloop/contracts";
import type { CapabilityPart, Decision, ResourceResult } from "@meshloop/contracts";
import { isRetriable } from "@meshloop/errors";
import type { LabAdminClientOptions, LabAnswer } from "./lab-admin-client.ts";
import { LabAdminClient } from "./lab-admin-client.ts";

export type LabApplierOptions = LabAdminClientOptions;

/** The one object the lab holds per target; named in every ResourceResult. */
export const ROUTE_TABLE_KIND = "route-table";

// The lab answers 404 both for a service it does not run and for one it runs without a state yet (GET only); its
// admin API tells them apart by this message alone (services/lab/src/admin-api.ts).
const NO_STATE_YET = /^no desired state applied/;

type Unsupported = { capability: CapabilityPart; reason: string }[];

/**
 * The lab's edge: PUTs a decision's full desired state with its generation into the lab's route table, which the
 * lab's data plane obeys from its next request on. The lab takes every desired-state part (it is the one mesh that
 * ejects a chosen instance), and its admin API refuses a state only for its schema or target, which the decision
 * schema already holds to; the unsupported list still comes from the capability table, so the two cannot disagree.
 *
 * Answers: 200 applied (the route-table resource `unchanged` when the lab held that state already); 409 stale or
 * failed (see #conflict); 400, 401, 404 and any other refusal failed with the lab's reason, not retried; a 5xx, a 429
 * or no answer throws a retriable LabAdminError so that the runtime retries with backoff.
 */
export class LabApplier implements MeshApplier {
  readonly mesh = "lab" as const;
  readonly #client: LabAdminClient;

  constructor(options: LabApplierOptions) {
    this.#client = new LabAdminClient(options);
  }

  async apply(decision: Decision, options: ApplyOptions): Promise<ApplyOutcome> {
    const unsupported = unsupportedParts("lab", decision.desiredState).map((u) => ({ capability: u.part, reason: u.reason }));
    try {
      return options.mode === "dry-run" ? await this.#dryRun(decision, unsupported, options.signal) : await this.#put(decision, unsupported, options.signal);
    } catch (error) {
      if (isRetriable(error)) throw error;
      // What no retry can mend (an unreadable token file) is this decision's failure, reported with its reason.
      const reason = error instanceof Error ? error.message : String(error);
      return failed(decision, reason, unsupported);
    }
  }

  async #put(decision: Decision, unsupported: Unsupported, signal: AbortSignal): Promise<ApplyOutcome> {
    const { namespace, service } = decision.target;
    const answer = await this.#client.put(namespace, service, { generation: decision.generation, desiredState: decision.desiredState }, signal);
    if (answer.status === 200) {
      if (typeof answer.body.changed !== "boolean") {
        return failed(decision, `the lab answered 200 without "changed": ${JSON.stringify(answer.body)}`, unsupported);
      }
      const changed = answer.body.changed;
      return {
        status: "applied",
        reason: changed
          ? `the lab's route table for ${nameOf(decision)} now holds generation ${decision.generation}`
          : `the lab's route table for ${nameOf(decision)} held this desired state already; generation ${decision.generation} recorded`,
        resources: [resource(decision, changed ? "applied" : "unchanged")],
        unsupported,
        appliedAt: new Date().toISOString(),
      };
    }
    if (answer.status === 409) return this.#conflict(decision, answer, unsupported);
    return failed(decision, refusal(decision, answer), unsupported);
  }

  /**
   * A 409: the lab holds a newer generation for the target, or this one with another state. The runtime models a
   * decision overtaken by a newer generation as status `stale` (plan.ts answers so from its own record before
   * applying), and a 409 with a newer generation is the same fact seen from the lab, e.g. after a manual PUT or
   * another actuator instance: no retry can succeed, since the lab's generations only move forward, so this neither
   * throws (which would spend the retries and end `failed`) nor reports `failed`. `stale` does not settle, which
   * is right: the generation was not carried out here. The same generation with another state is not overtaken but
   * contradicted; it never will apply either, and is `failed` so that an operator looks at who wrote it.
   */
  #conflict(decision: Decision, answer: LabAnswer, unsupported: Unsupported): ApplyOutcome {
    const held = answer.body.appliedGeneration;
    if (typeof held === "number" && held > decision.generation) {
      const reason = `the lab holds generation ${held}, newer than ${decision.generation}: ${answer.error}`;
      return { status: "stale", reason, resources: [resource(decision, "skipped", reason)], unsupported };
    }
    return failed(decision, `the lab refused generation ${decision.generation} as conflicting: ${answer.error}`, unsupported);
  }

  /** Reads what the lab holds and says what a PUT would do, changing nothing. */
  async #dryRun(decision: Decision, unsupported: Unsupported, signal: AbortSignal): Promise<ApplyOutcome> {
    const { namespace, service } = decision.target;
    const answer = await this.#client.get(namespace, service, signal);
    let would: string;
    if (answer.status === 404 && NO_STATE_YET.test(answer.error)) {
      would = `would set the first desired state of ${nameOf(decision)} at generation ${decision.generation}`;
    } else if (answer.status === 200) {
      const held = answer.body.generation;
      // Through JSON like the lab's copy, so that an absent optional field and an undefined one compare equal.
      const same = isDeepStrictEqual(JSON.parse(JSON.stringify(decision.desiredState)), answer.body.desiredState);
      if (typeof held !== "number") {
        return failed(decision, `the lab answered GET without a generation: ${JSON.stringify(answer.body)}`, unsupported);
      } else if (held > decision.generation || (held === decision.generation && !same)) {
        would = `would be refused: the lab holds generation ${held} for ${nameOf(decision)}${same ? " with this desired state" : ""}`;
      } else {
        would = same
          ? `would change nothing: the lab holds this desired state for ${nameOf(decision)} (generation ${held})`
          : `would replace generation ${held} of ${nameOf(decision)} with ${decision.generation}`;
      }
    } else {
      return failed(decision, refusal(decision, answer), unsupported);
    }
    return { status: "dry-run", reason: would, resources: [resource(decision, "skipped", would)], unsupported };
  }
}

function nameOf(decision: Decision): string {
  return `${decision.target.namespace}/${decision.target.service}`;
}

function resource(decision: Decision, status: ResourceResult["status"], message?: string): ResourceResult {
  return { kind: ROUTE_TABLE_KIND, name: nameOf(decision), status, ...(message === undefined ? {} : { message }) };
}

function failed(decision: Decision, reason: string, unsupported: Unsupported): ApplyOutcome {
  return { status: "failed", reason, resources: [resource(decision, "failed", reason)], unsupported };
}

/** The reason of a refusal the lab meant (4xx), with what to do about it where that is known. */
function refusal(decision: Decision, answer: LabAnswer): string {
  switch (answer.status) {
    case 400:
      return `the lab refused the desired state of ${nameOf(decision)}: ${answer.error}`;
    case 401:
      return answer.tokenSent
        ? "the lab's admin API refused the bearer token: the token file holds a token the lab does not accept"
        : "the lab's admin API wants a bearer token and none was sent: configure the token file";
    case 404:
      return `no such service in the lab: ${answer.error}`;
    default:
      return `the lab answered ${answer.status}: ${answer.error}`;
  }
}
