import { ROOT_CONTEXT } from "@opentelemetry/api";
import type { DesiredState } from "@meshloop/contracts";
import { callerIdentity, resolutionConfigSchema } from "@meshloop/contracts";
import type { AdminApi } from "./admin-api.ts";
import { startAdminApi } from "./admin-api.ts";
import type { CallResult, Caller, TargetCounters } from "./data-plane.ts";
import { DataPlane } from "./data-plane.ts";
import type { ExportedSpans } from "./export-ledger.ts";
import { ExportLedger } from "./export-ledger.ts";
import { FaultInjector } from "./faults.ts";
import { LabInstance } from "./instance.ts";
import type { OutboundDeps } from "./outbound.ts";
import { callThroughDataPlane } from "./outbound.ts";
import { seededRandom } from "./random.ts";
import { planReplicas } from "./replicas.ts";
import { RouteTable } from "./route-table.ts";
import type { ExportCounters, InstanceTelemetry } from "./telemetry.ts";
import { emptyExportCounters, instanceTelemetry } from "./telemetry.ts";
import type { CallSpec, ServiceSpec, Topology } from "./topology.ts";
import { defaultTopology, findService, topologyProblems } from "./topology.ts";

export interface LabOptions {
  topology?: Topology;
  /** OTLP/HTTP base URL (`http://127.0.0.1:4318`) or full traces URL; null: the lab exports no spans. */
  ingestUrl: string | null;
  ingestHeaders?: Record<string, string>;
  /** 0 (default): any free port. */
  adminPort?: number;
  adminHost?: string;
  /** When set, the admin API wants `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** BatchSpanProcessor delay; default 200 ms. */
  exportDelayMs?: number;
  /** Seeds routing and fault randomness; default 1. */
  seed?: number;
  /** Request timeout when the route table sets none; default 15 s. */
  defaultTimeoutMs?: number;
  /** How often crash faults are checked against the clock; default 50 ms. */
  faultTickMs?: number;
}

export interface InstanceSummary {
  service: string;
  version: string;
  instanceId: string;
  port: number | null;
  crashed: boolean;
  served: number;
  errors: number;
}

export interface LabCounters extends ExportCounters {
  /** Requests served by all instances, and those answered >= 500. */
  requests: number;
  errors: number;
  instances: InstanceSummary[];
}

/** An extra caller (not a lab service) with its own identity and tracer, e.g. for the security controller. */
export interface ExternalCaller {
  readonly caller: Caller;
  call(call: CallSpec): Promise<CallResult>;
}

export class Lab {
  readonly topology: Topology;
  readonly faults = new FaultInjector();
  readonly routeTable = new RouteTable();
  readonly dataPlane: DataPlane;
  private readonly options: LabOptions;
  private readonly exportCounters = emptyExportCounters();
  private readonly exportLedger = new ExportLedger();
  private readonly random;
  private readonly registry = new Map<string, LabInstance>();
  private readonly sequence = new Map<string, number>();
  private readonly callerTelemetry: InstanceTelemetry[] = [];
  private readonly identityConfig = resolutionConfigSchema.parse({ mesh: "lab" });
  private admin: AdminApi | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(options: LabOptions) {
    this.options = options;
    this.topology = options.topology ?? defaultTopology();
    const problems = topologyProblems(this.topology);
    if (problems.length > 0) throw new Error(`invalid lab topology: ${problems.join("; ")}`);
    this.random = seededRandom(options.seed ?? 1);
    this.dataPlane = new DataPlane({
      routeTable: (service) => this.routeTable.stateOf(service),
      endpoints: (service) => this.instances(service),
      random: this.random,
      defaultTimeoutMs: options.defaultTimeoutMs ?? 15_000,
    });
  }

  get adminUrl(): string {
    if (!this.admin) throw new Error("the lab is not started");
    return this.admin.url;
  }

  async start(): Promise<void> {
    for (const service of this.topology.services) {
      for (const v of service.versions) {
        for (let i = 0; i < v.instances; i++) await this.startInstance(service, v.version);
      }
    }
    this.admin = await startAdminApi({
      routeTable: this.routeTable,
      mesh: this.topology.mesh,
      namespace: this.topology.namespace,
      hasService: (service) => findService(this.topology, service) !== undefined,
      beforeApply: (service, state) => this.applyReplicas(service, state),
      ...(this.options.adminToken !== undefined ? { token: this.options.adminToken } : {}),
      ...(this.options.adminHost !== undefined ? { host: this.options.adminHost } : {}),
      port: this.options.adminPort ?? 0,
    });
    this.ticker = setInterval(() => void this.applyCrashes(), this.options.faultTickMs ?? 50);
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    await this.admin?.close();
    this.admin = null;
    const instances = [...this.registry.values()];
    this.registry.clear();
    await Promise.all(instances.map((i) => i.stop()));
    await Promise.all(this.callerTelemetry.map((t) => t.shutdown()));
  }

  /** Running instances (crashed ones included), of one service or all. */
  instances(service?: string): LabInstance[] {
    const all = [...this.registry.values()];
    return service === undefined ? all : all.filter((i) => i.service.name === service);
  }

  identityOf(service: string): string {
    return callerIdentity({ service, namespace: this.topology.namespace }, this.identityConfig);
  }

  counters(): LabCounters {
    const instances = this.instances().map((i) => ({
      service: i.service.name, version: i.version, instanceId: i.instanceId, port: i.port, crashed: i.crashed, ...i.counters,
    }));
    return {
      ...this.exportCounters,
      requests: instances.reduce((sum, i) => sum + i.served, 0) + this.retiredServed.requests,
      errors: instances.reduce((sum, i) => sum + i.errors, 0) + this.retiredServed.errors,
      instances,
    };
  }

  /**
   * Per service and version, the spans the exporters were told were accepted and those whose export failed. Final
   * once `stop()` returned (it flushes every exporter and waits for the answers).
   */
  exportedSpans(): ExportedSpans[] {
    return this.exportLedger.list();
  }

  dataPlaneCounters(service: string): TargetCounters {
    return this.dataPlane.counters(service);
  }

  /** A request from outside the mesh (the load generator): through the data plane, without spans of its own. */
  request(service: string, method: string, path: string, caller?: Caller): Promise<CallResult> {
    const from = caller ?? { service: "load-generator", identity: this.identityOf("load-generator") };
    return callThroughDataPlane(this.outboundDeps(), from, { service, method, path }, { parent: ROOT_CONTEXT, tracer: null, skewMs: 0 });
  }

  /** A caller outside the topology with its own identity, exporting its CLIENT spans like any lab service. */
  externalCaller(service: string, identity?: string): ExternalCaller {
    const caller = { service, identity: identity ?? this.identityOf(service) };
    const telemetry = this.options.ingestUrl === null ? null : instanceTelemetry(
      { service, version: "v1", instanceId: `${service}-0`, namespace: this.topology.namespace },
      { url: this.options.ingestUrl, headers: this.options.ingestHeaders ?? {}, exportDelayMs: this.options.exportDelayMs ?? 200 },
      this.exportCounters,
      this.exportLedger,
    );
    if (telemetry) this.callerTelemetry.push(telemetry);
    return {
      caller,
      call: (call) => callThroughDataPlane(this.outboundDeps(), caller, call, { parent: ROOT_CONTEXT, tracer: telemetry?.tracer ?? null, skewMs: 0 }),
    };
  }

  /** Starts or stops instances of a service until it runs `count`, spread over versions by planReplicas. */
  async scale(service: string, count: number): Promise<void> {
    const spec = findService(this.topology, service);
    if (!spec) throw new Error(`no service ${service} in the lab`);
    const running = this.instances(service);
    const current = spec.versions.map((v) => ({ version: v.version, count: running.filter((i) => i.version === v.version).length }));
    const plan = planReplicas(current, count, spec.versions[spec.versions.length - 1]!.version);
    for (const [version, want] of plan) {
      const mine = running.filter((i) => i.version === version);
      for (let n = mine.length; n < want; n++) await this.startInstance(spec, version);
      // The newest instances go first.
      for (const instance of mine.slice(want).reverse()) await this.stopInstance(instance);
    }
  }

  private readonly retiredServed = { requests: 0, errors: 0 };

  private async applyReplicas(service: string, state: DesiredState): Promise<void> {
    if (state.replicas?.mode !== "apply") return;
    if (this.instances(service).length !== state.replicas.count) await this.scale(service, state.replicas.count);
  }

  private async startInstance(service: ServiceSpec, version: string): Promise<LabInstance> {
    const key = `${service.name}-${version}`;
    const n = this.sequence.get(key) ?? 0;
    this.sequence.set(key, n + 1);
    const instance = new LabInstance(service, version, `${key}-${n}`, {
      ...this.outboundDeps(),
      faults: this.faults,
      random: this.random,
      identityOf: (s) => this.identityOf(s),
      ingest: this.options.ingestUrl === null ? null : {
        url: this.options.ingestUrl,
        headers: this.options.ingestHeaders ?? {},
        exportDelayMs: this.options.exportDelayMs ?? 200,
      },
      exportCounters: this.exportCounters,
      exportLedger: this.exportLedger,
    });
    await instance.start();
    this.registry.set(instance.instanceId, instance);
    return instance;
  }

  private async stopInstance(instance: LabInstance): Promise<void> {
    this.registry.delete(instance.instanceId);
    this.retiredServed.requests += instance.counters.served;
    this.retiredServed.errors += instance.counters.errors;
    await instance.stop();
  }

  private outboundDeps(): OutboundDeps {
    return { topology: this.topology, dataPlane: this.dataPlane, portOf: (id) => this.registry.get(id)?.port ?? null };
  }

  private async applyCrashes(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const instance of this.instances()) {
        const ref = { service: instance.service.name, version: instance.version, instanceId: instance.instanceId };
        const should = this.faults.crashed(ref, now);
        if (should && !instance.crashed) await instance.crash();
        else if (!should && instance.crashed) await instance.recover();
      }
    } finally {
      this.ticking = false;
    }
  }
}

/** Builds the lab (default topology unless given) and starts it: instances, admin API, fault clock. */
export async function startLab(options: LabOptions): Promise<Lab> {
  const lab = new Lab(options);
  await lab.start();
  return lab;
}
