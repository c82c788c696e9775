import type { Bus } from "@meshloop/bus";
import { createMemoryBus } from "@meshloop/bus";
import { loadConfig, createServiceRuntime } from "@meshloop/runtime";
import type { ServiceRuntime } from "@meshloop/runtime";
import { uniqueName } from "@meshloop/test-harness";
import type { IngestService } from "../src/index.ts";
import { createIngestService, ingestConfig } from "../src/index.ts";

export interface IngestFixture {
  runtime: ServiceRuntime;
  service: IngestService;
  bus: Bus;
  topics: { spans: string; resourceMetrics: string };
  httpUrl: string;
  grpcAddress: string;
  opsUrl: string;
  stop(): Promise<void>;
}

/** Starts an ingest on free ports, on the given bus (memory by default) and its own topic prefix. */
export async function startIngest(options: { env?: Record<string, string>; bus?: Bus } = {}): Promise<IngestFixture> {
  const prefix = uniqueName("ingest");
  const config = loadConfig(ingestConfig, {
    env: {
      MESHLOOP_BUS: "memory",
      MESHLOOP_TOPIC_PREFIX: prefix,
      MESHLOOP_INGEST_HOST: "127.0.0.1",
      MESHLOOP_INGEST_HTTP_PORT: "0",
      MESHLOOP_INGEST_GRPC_PORT: "0",
      MESHLOOP_HTTP_HOST: "127.0.0.1",
      MESHLOOP_HTTP_PORT: "0",
      MESHLOOP_LOG_LEVEL: "warn",
      ...options.env,
    },
  });
  const bus = options.bus ?? createMemoryBus();
  let service: IngestService | undefined;
  const runtime = await createServiceRuntime({
    name: "ingest",
    config,
    create: (context) => (service = createIngestService(context, { bus })),
  });
  await runtime.start();
  const ports = service!.ports();
  return {
    runtime,
    service: service!,
    bus,
    topics: { spans: `${prefix}.meshloop.spans.v1`, resourceMetrics: `${prefix}.meshloop.resource-metrics.v1` },
    httpUrl: `http://127.0.0.1:${ports.http}`,
    grpcAddress: `127.0.0.1:${ports.grpc}`,
    opsUrl: runtime.ops.address().url,
    stop: async () => {
      await runtime.stop();
      if (options.bus === undefined) await bus.close();
    },
  };
}
