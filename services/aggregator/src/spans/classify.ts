import type { ConnectionType } from "../series/series-set.ts";
import {
  STATUS_2XX,
  STATUS_3XX,
  STATUS_401,
  STATUS_403,
  STATUS_4XX,
  STATUS_5XX,
  STATUS_GRPC_ERROR,
} from "../series/counters.ts";

/** OTLP SpanKind and Status.code values. */
export const KIND_SERVER = 2;
export const KIND_CLIENT = 3;
export const KIND_PRODUCER = 4;
export const KIND_CONSUMER = 5;
export const STATUS_ERROR = 2;

/**
 * gRPC codes that make a SERVER span an error by the OTel RPC conventions: UNKNOWN, DEADLINE_EXCEEDED,
 * UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. The others (NOT_FOUND, PERMISSION_DENIED, ...) are the caller's
 * problem, like an HTTP 4xx.
 */
export const DEFAULT_GRPC_ERROR_CODES: readonly number[] = [2, 4, 12, 13, 14, 15];

/** The response of a span as far as classification needs it; 0 / -1 when the span has no such attribute. */
export interface SpanResponse {
  readonly kind: number;
  /** Status.code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  /** `http.response.status_code` (or the old `http.status_code`); 0 when absent. */
  readonly httpStatus: number;
  /** `rpc.grpc.status_code`; -1 when absent. */
  readonly grpcStatus: number;
}

/**
 * Response classes as STATUS_* bits. `4xx` includes 401 and 403, which also get their own bits (auth trouble, for
 * the security controller). `grpcErrors` counts every non-OK gRPC code, like Kiali's gRPC health; whether it is an
 * error is the separate, configurable question below.
 */
export function statusBits(httpStatus: number, grpcStatus: number): number {
  let bits = 0;
  if (httpStatus >= 200 && httpStatus < 600) {
    if (httpStatus < 300) bits |= STATUS_2XX;
    else if (httpStatus < 400) bits |= STATUS_3XX;
    else if (httpStatus < 500) {
      bits |= STATUS_4XX;
      if (httpStatus === 401) bits |= STATUS_401;
      else if (httpStatus === 403) bits |= STATUS_403;
    } else bits |= STATUS_5XX;
  }
  if (grpcStatus > 0) bits |= STATUS_GRPC_ERROR;
  return bits;
}

/**
 * Whether a span of a service's own series (SERVER, CONSUMER) is an error: status ERROR, an HTTP status >= 500 on a
 * SERVER span, or a gRPC status in the error set. By the HTTP conventions SERVER spans are not ERROR for a 4xx.
 */
export function isServiceError(r: SpanResponse, grpcErrors: ReadonlySet<number>): boolean {
  return (
    r.statusCode === STATUS_ERROR ||
    (r.kind === KIND_SERVER && r.httpStatus >= 500) ||
    (r.grpcStatus >= 0 && grpcErrors.has(r.grpcStatus))
  );
}

/**
 * Whether the call a CLIENT (or PRODUCER) span records failed, from the caller's side. The HTTP and RPC conventions
 * set ERROR on CLIENT spans for every 4xx and every non-OK gRPC code; counted as errors those would charge the callee
 * with its callers' bad requests, so an ERROR that the span's own response code explains (HTTP below 500, a gRPC code
 * outside the error set) is left to the status classes. What remains: 5xx, error-set gRPC codes, and failures with
 * no response (timeouts, refused connections).
 */
export function isCallError(r: SpanResponse, grpcErrors: ReadonlySet<number>): boolean {
  if (r.httpStatus >= 500) return true;
  if (r.grpcStatus >= 0 && grpcErrors.has(r.grpcStatus)) return true;
  if (r.statusCode !== STATUS_ERROR) return false;
  const explained = (r.httpStatus > 0 && r.httpStatus < 500) || (r.grpcStatus >= 0 && !grpcErrors.has(r.grpcStatus));
  return !explained;
}

/** The route of a span: `http.route`, else `rpc.service/rpc.method` (or `rpc.method` alone); undefined when neither. */
export function routeOf(
  httpRoute: string | undefined,
  rpcService: string | undefined,
  rpcMethod: string | undefined,
): string | undefined {
  if (httpRoute) return httpRoute;
  if (rpcMethod) return rpcService ? `${rpcService}/${rpcMethod}` : rpcMethod;
  return undefined;
}

export interface PeerAttributes {
  readonly peerService?: string | undefined;
  readonly serverAddress?: string | undefined;
  /** `net.peer.name`, the old name of `server.address` on clients. */
  readonly netPeerName?: string | undefined;
  /** `db.system.name`, else the older `db.system`. */
  readonly dbSystem?: string | undefined;
  readonly messagingSystem?: string | undefined;
}

export interface VirtualPeer {
  readonly name: string;
  readonly connectionType: ConnectionType;
}

/**
 * The uninstrumented callee a CLIENT or PRODUCER span names, for when no SERVER or CONSUMER span pairs with it:
 * named from `peer.service`, else `server.address` (`net.peer.name`), else `db.system`, else `messaging.system`.
 * The connection type follows the servicegraph connector: `database` when the span is a database call,
 * `messaging_system` for producers and messaging calls, `virtual_node` otherwise.
 */
export function virtualPeerOf(kind: number, peer: PeerAttributes): VirtualPeer | undefined {
  const name = peer.peerService || peer.serverAddress || peer.netPeerName || peer.dbSystem || peer.messagingSystem;
  if (!name) return undefined;
  const connectionType: ConnectionType = peer.dbSystem
    ? "database"
    : kind === KIND_PRODUCER || peer.messagingSystem
      ? "messaging_system"
      : "virtual_node";
  return { name, connectionType };
}
