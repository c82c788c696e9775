import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { readSecretFile } from "@meshloop/connections";
import { parseTargetKey, sameTarget, toCloudEventMessage } from "@meshloop/contracts";
import type { CloudEventMessage, ControlCommand, TargetRef } from "@meshloop/contracts";
import { UnavailableError, ValidationError } from "@meshloop/errors";

/**
 * POST /api/control: who may send commands, what a valid request is, and the control message it becomes. The
 * message is the one `meshloop approve|reject|freeze|unfreeze` publishes (packages/cli/src/commands/control.ts), with
 * the console as its source.
 */

export const CONSOLE_COMMANDS = ["approve", "reject", "freeze", "unfreeze"] as const;
export type ConsoleCommand = (typeof CONSOLE_COMMANDS)[number];
export const CONTROL_SOURCE = "/meshloop/console";
/** The operator of commands authorised by the bearer token, which names no person. */
export const TOKEN_OPERATOR = "console";

export interface ControlAuth {
  readonly tokenFile?: string | undefined;
  readonly trustForwardedUser: boolean;
}

export type AuthOutcome = { ok: true; operator: string } | { ok: false; status: 401 | 403; error: string };

export interface ControlRequest {
  readonly command: ConsoleCommand;
  readonly decisionId?: string;
  readonly target?: TargetRef;
  readonly reason?: string;
}

const USER = /^[^\p{Cc}]{1,256}$/u;

/** Decides whether a control request may be carried out and by whom; throws UnavailableError on an unreadable token file. */
export function authorize(headers: IncomingHttpHeaders, auth: ControlAuth): AuthOutcome {
  const crossOrigin = crossOriginReason(headers);
  if (crossOrigin !== null) return { ok: false, status: 403, error: crossOrigin };
  if (auth.trustForwardedUser) {
    const user = single(headers["x-forwarded-user"])?.trim();
    if (user !== undefined && user !== "" && USER.test(user)) return { ok: true, operator: user };
  }
  if (auth.tokenFile !== undefined) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(single(headers.authorization) ?? "")?.[1];
    if (bearer !== undefined && sameSecret(bearer, readToken(auth.tokenFile))) return { ok: true, operator: TOKEN_OPERATOR };
    return { ok: false, status: 401, error: "missing or wrong bearer token (Authorization: Bearer <token>)" };
  }
  if (auth.trustForwardedUser) return { ok: false, status: 401, error: "no X-Forwarded-User: sign in through the console's proxy" };
  return { ok: false, status: 403, error: "no token configured: the console is read-only (set MESHLOOP_CONSOLE_TOKEN_FILE)" };
}

const bodySchema = z.strictObject({
  command: z.enum(CONSOLE_COMMANDS, { error: `command must be one of ${CONSOLE_COMMANDS.join(", ")}` }),
  decisionId: z.string().min(1, "decisionId must not be empty").optional(),
  target: z.string().min(1, "target must not be empty").optional(),
  reason: z.string().max(1000, "reason must be at most 1000 characters").optional(),
});

/** Validates a request body; the ValidationError's message is one line, fit for the 400 answer. */
export function parseControlRequest(body: unknown): ControlRequest {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    const message = issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : `${field}${issue.message}`;
    throw new ValidationError(`invalid control request: ${message}`.replace(/\s*\n\s*/g, " "));
  }
  const { command, decisionId, reason } = parsed.data;
  let target = parsed.data.target === undefined ? undefined : targetOf(parsed.data.target);
  if (command === "approve" || command === "reject") {
    if (decisionId === undefined) throw new ValidationError(`invalid control request: ${command} needs a decisionId`);
    const ofDecision = targetOfDecision(decisionId);
    if (target !== undefined && !sameTarget(target, ofDecision)) {
      throw new ValidationError(`invalid control request: target ${parsed.data.target} is not the target of ${decisionId}`);
    }
    target = ofDecision;
  } else if (decisionId !== undefined) {
    throw new ValidationError(`invalid control request: ${command} takes no decisionId`);
  }
  return { command, ...(decisionId === undefined ? {} : { decisionId }), ...(target === undefined ? {} : { target }), ...(reason === undefined || reason.trim() === "" ? {} : { reason: reason.trim() }) };
}

/** The control command's data, field for field as the CLI builds it. */
export function controlCommand(request: ControlRequest, operator: string, commandId: string, issuedAt: Date = new Date()): ControlCommand {
  return {
    commandId,
    command: request.command,
    operator,
    issuedAt: issuedAt.toISOString(),
    ...(request.target === undefined ? {} : { target: request.target }),
    ...(request.decisionId === undefined ? {} : { decisionId: request.decisionId }),
    ...(request.reason === undefined ? {} : { reason: request.reason }),
  };
}

export function controlMessage(command: ControlCommand): CloudEventMessage {
  return toCloudEventMessage({ type: "dev.meshloop.control.v1", id: command.commandId, source: CONTROL_SOURCE, data: command });
}

/** A decision id is `<mesh>/<namespace>/<service>@<generation>`: its target is in it. */
export function targetOfDecision(decisionId: string): TargetRef {
  const at = decisionId.lastIndexOf("@");
  if (at <= 0 || !/^\d+$/.test(decisionId.slice(at + 1))) {
    throw new ValidationError(`invalid control request: "${decisionId}" is not a decision id (mesh/namespace/service@generation)`);
  }
  return targetOf(decisionId.slice(0, at));
}

function targetOf(key: string): TargetRef {
  try {
    return parseTargetKey(key);
  } catch (error) {
    throw new ValidationError(`invalid control request: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Browsers send Origin on cross-site POSTs. A page elsewhere must not drive the console with the cookies of an
 * authenticating proxy (the forwarded-user mode), so an Origin naming another host than the request's is refused.
 */
function crossOriginReason(headers: IncomingHttpHeaders): string | null {
  const origin = single(headers.origin);
  if (origin === undefined || origin === "null") return origin === "null" ? "cross-origin request refused (Origin: null)" : null;
  const host = single(headers["x-forwarded-host"])?.split(",")[0]?.trim() ?? single(headers.host);
  const originHost = URL.parse(origin)?.host;
  return originHost !== undefined && originHost === host ? null : `cross-origin request refused (Origin ${origin})`;
}

function readToken(path: string): string {
  let token: string;
  try {
    token = readSecretFile(path).trim();
  } catch (error) {
    throw new UnavailableError(`the console's token file cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`, { cause: error, retriable: true, context: { tokenFile: path } });
  }
  // An empty file would otherwise let an empty token through; it is a broken secret, not an open door.
  if (token === "") throw new UnavailableError("the console's token file is empty", { retriable: true, context: { tokenFile: path } });
  return token;
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
