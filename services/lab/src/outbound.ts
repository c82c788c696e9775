import { Agent, request as httpRequest } from "node:http";
import type { Context, Span, Tracer } from "@opentelemetry/api";
import { defaultTextMapSetter, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { CallResult, Caller, DataPlane } from "./data-plane.ts";
import type { AttemptOutcome } from "./route-decisions.ts";
import type { CallSpec, Topology } from "./topology.ts";
import { findService } from "./topology.ts";

/**
 * A call from a lab service (or an extra caller) to another, through the data plane: a CLIENT span per try, with the
 * W3C traceparent of that span sent along, and one CLIENT span for an answer the data plane gave by itself.
 */

const propagator = new W3CTraceContextPropagator();
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

export interface OutboundDeps {
  topology: Topology;
  dataPlane: DataPlane;
  /** The port of a running instance, null once it stopped. */
  portOf: (instanceId: string) => number | null;
}

export interface OutboundTracing {
  parent: Context;
  /** Null: no spans (the load generator, an uninstrumented service). */
  tracer: Tracer | null;
  skewMs: number;
}

export async function callThroughDataPlane(deps: OutboundDeps, caller: Caller, call: CallSpec, tracing: OutboundTracing): Promise<CallResult> {
  const { parent, tracer, skewMs } = tracing;
  const callee = findService(deps.topology, call.service);
  const attributes = {
    "http.request.method": call.method,
    "server.address": call.service,
    ...(callee?.instrumented === false ? { "peer.service": call.service } : {}),
  };
  const result = await deps.dataPlane.call(caller, call.service, async ({ endpoint, attempt, signal }) => {
    const port = deps.portOf(endpoint.instanceId);
    const span = tracer?.startSpan(
      call.method,
      {
        kind: SpanKind.CLIENT,
        startTime: Date.now() + skewMs,
        attributes: {
          ...attributes,
          "server.port": port ?? 0,
          "url.full": `http://${call.service}${call.path}`,
          ...(attempt > 0 ? { "http.request.resend_count": attempt } : {}),
        },
      },
      parent,
    );
    const headers: Record<string, string> = {};
    propagator.inject(span ? trace.setSpan(parent, span) : parent, headers, defaultTextMapSetter);
    const outcome: AttemptOutcome = port === null ? { kind: "connect-failure" } : await sendRequest(port, call.method, call.path, headers, signal);
    if (span) endClientSpan(span, outcome.kind === "response" ? outcome.status : null, outcome.kind, skewMs);
    return outcome;
  });
  if (result.attempts === 0 && tracer) {
    // Denied, overflow, no endpoint: the caller still sees a failed call.
    const span = tracer.startSpan(call.method, { kind: SpanKind.CLIENT, startTime: Date.now() + skewMs, attributes }, parent);
    endClientSpan(span, result.status, result.outcome, skewMs);
  }
  return result;
}

function endClientSpan(span: Span, status: number | null, outcome: string, skewMs: number): void {
  if (status !== null) span.setAttribute("http.response.status_code", status);
  // Client spans are errors from 400 up, and when no response came at all.
  if (status === null || status >= 400) {
    span.setAttribute("error.type", status === null ? outcome : String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end(Date.now() + skewMs);
}

/** One HTTP try to a lab instance; failures become outcomes, it never throws. */
export function sendRequest(port: number, method: string, path: string, headers: Record<string, string>, signal: AbortSignal): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers, agent, signal }, (res) => {
      res.resume();
      res.on("end", () => resolve({ kind: "response", status: res.statusCode ?? 0 }));
      res.on("error", () => resolve({ kind: "reset" }));
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (signal.aborted) resolve({ kind: "timeout" });
      else if (error.code === "ECONNREFUSED") resolve({ kind: "connect-failure" });
      else resolve({ kind: "reset" });
    });
    req.end();
  });
}
