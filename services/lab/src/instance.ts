import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { DataPlane } from "./data-plane.ts";
import type { FaultInjector } from "./faults.ts";
import type { Random } from "./random.ts";
import { callThroughDataPlane } from "./outbound.ts";
import type { Endpoint } from "./route-decisions.ts";
import type { ExportLedger } from "./export-ledger.ts";
import type { ExportCounters, IngestTarget, InstanceTelemetry } from "./telemetry.ts";
import { instanceTelemetry } from "./telemetry.ts";
import type { ServiceSpec, Topology } from "./topology.ts";
import { findRoute } from "./topology.ts";

/**
 * One lab instance: a real HTTP server on 127.0.0.1 with its own tracer provider and resource. It records a SERVER
 * span per request served and a CLIENT span per try of each call it makes (per OTel's HTTP conventions, a resend is a
 * new span), propagating W3C trace context so that the aggregator pairs the edges.
 */

const propagator = new W3CTraceContextPropagator();

export interface InstanceCounters {
  served: number;
  /** Answered with a status >= 500. */
  errors: number;
}

export interface InstanceDeps {
  topology: Topology;
  dataPlane: DataPlane;
  faults: FaultInjector;
  random: Random;
  /** The port of a running instance, null once it stopped. */
  portOf: (instanceId: string) => number | null;
  identityOf: (service: string) => string;
  /** Null: no spans are exported (the uninstrumented dependency, or a lab without ingest). */
  ingest: IngestTarget | null;
  exportCounters: ExportCounters;
  /** Per service and version, what the exporters were told (the chaos suite's span accounting). */
  exportLedger?: ExportLedger;
}

export class LabInstance implements Endpoint {
  readonly instanceId: string;
  readonly version: string;
  readonly service: ServiceSpec;
  readonly counters: InstanceCounters = { served: 0, errors: 0 };
  private readonly deps: InstanceDeps;
  private readonly telemetry: InstanceTelemetry | null;
  private readonly server: Server;
  private boundPort: number | null = null;
  private inFlight = 0;
  private crashedNow = false;

  constructor(service: ServiceSpec, version: string, instanceId: string, deps: InstanceDeps) {
    this.service = service;
    this.version = version;
    this.instanceId = instanceId;
    this.deps = deps;
    this.telemetry =
      service.instrumented && deps.ingest
        ? instanceTelemetry({ service: service.name, version, instanceId, namespace: deps.topology.namespace }, deps.ingest, deps.exportCounters, deps.exportLedger)
        : null;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
  }

  get port(): number | null {
    return this.boundPort;
  }

  get crashed(): boolean {
    return this.crashedNow;
  }

  async start(): Promise<void> {
    await this.listen(0);
  }

  /** Stops answering: the server closes and open connections are reset, as when a process dies. */
  async crash(): Promise<void> {
    if (this.crashedNow) return;
    this.crashedNow = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Restarts on the same port, so the data plane's endpoint stays valid. */
  async recover(): Promise<void> {
    if (!this.crashedNow) return;
    await this.listen(this.boundPort ?? 0);
    this.crashedNow = false;
  }

  async stop(): Promise<void> {
    if (!this.crashedNow && this.server.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      // In-flight requests get a moment to finish, then are cut off.
      const timer = setTimeout(() => this.server.closeAllConnections(), 1_000);
      await closed;
      clearTimeout(timer);
    }
    this.boundPort = null;
    await this.telemetry?.shutdown();
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  private ref() {
    return { service: this.service.name, version: this.version, instanceId: this.instanceId };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = Date.now();
    const skew = this.deps.faults.skewMs(this.ref(), now);
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0]!;
    req.resume();
    const route = findRoute(this.service, method, path);
    const tracer = this.telemetry?.tracer ?? null;
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const span = tracer?.startSpan(
      route ? `${method} ${route.path}` : method,
      {
        kind: SpanKind.SERVER,
        startTime: now + skew,
        attributes: {
          "http.request.method": method,
          "url.path": path,
          "url.scheme": "http",
          "server.address": this.service.name,
          "server.port": this.boundPort ?? 0,
          ...(route ? { "http.route": route.path } : {}),
        },
      },
      parent,
    );
    this.inFlight++;
    let status = 200;
    try {
      if (!route) status = 404;
      else {
        const plan = this.deps.faults.plan({ ...this.ref(), route: route.path, inFlight: this.inFlight }, route.latency ?? this.service.latency, now, this.deps.random);
        await sleep(plan.delayMs);
        if (plan.errorStatus !== null) status = plan.errorStatus;
        else {
          const context = span ? trace.setSpan(parent, span) : parent;
          for (const call of route.calls) {
            const caller = { service: this.service.name, identity: this.deps.identityOf(this.service.name) };
            const result = await callThroughDataPlane(this.deps, caller, call, { parent: context, tracer, skewMs: skew });
            if (result.status >= 400 && call.onFailure !== "ignore") {
              status = 502;
              break;
            }
          }
        }
      }
    } finally {
      this.inFlight--;
    }
    this.counters.served++;
    if (status >= 500) this.counters.errors++;
    if (span) {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) {
        span.setAttribute("error.type", String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end(Date.now() + skew);
    }
    if (!res.destroyed) {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ service: this.service.name, version: this.version, instanceId: this.instanceId, status }));
    }
  }
}
