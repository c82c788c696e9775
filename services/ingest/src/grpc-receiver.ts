import type { sendUnaryData, ServerUnaryCall, ServiceDefinition } from "@grpc/grpc-js";
import { Metadata, Server, ServerCredentials, status } from "@grpc/grpc-js";
import { RefusedError } from "./export-handler.ts";
import type { Signal } from "./ingest-metrics.ts";
import type { ReceiverOptions } from "./receiver-options.ts";
import { retryInfoStatus } from "./retry-info.ts";


// Requests and responses stay bytes: the pipeline reads the protobuf wire itself, so grpc-js must not decode.
const passThrough = {
  requestStream: false,
  responseStream: false,
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (value: Buffer) => value,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (value: Buffer) => value,
} as const;

const traceService: ServiceDefinition = {
  Export: { path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export", ...passThrough },
};
const metricsService: ServiceDefinition = {
  Export: { path: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", ...passThrough },
};

/** OTLP/gRPC: TraceService/Export and MetricsService/Export; grpc-js inflates gzip within the message size limit. */
export class GrpcReceiver {
  readonly #options: ReceiverOptions;
  readonly #server: Server;
  #port = 0;

  constructor(options: ReceiverOptions) {
    this.#options = options;
    this.#server = new Server({
      "grpc.max_receive_message_length": options.handler.maxBodyBytes,
      "grpc.max_send_message_length": 4 * 1024 * 1024,
    });
    this.#server.addService(traceService, { Export: this.#unary("traces") });
    this.#server.addService(metricsService, { Export: this.#unary("metrics") });
  }

  async start(): Promise<void> {
    const { tls } = this.#options;
    const credentials = tls
      ? ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false)
      : ServerCredentials.createInsecure();
    this.#port = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(`${this.#options.host}:${this.#options.port}`, credentials, (error, port) => {
        if (error) reject(error);
        else resolve(port);
      });
    });
  }

  /** Refuses new calls and waits for those in flight; after the deadline the shutdown is forced. */
  stop(deadlineMs = 5_000): Promise<void> {
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, deadlineMs);
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  port(): number {
    return this.#port;
  }

  #unary(signal: Signal) {
    return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
      this.#export(signal, call).then(
        (response) => callback(null, response),
        (error: unknown) => callback(this.#toStatus(signal, error)),
      );
    };
  }

  async #export(signal: Signal, call: ServerUnaryCall<Buffer, Buffer>): Promise<Buffer> {
    const started = performance.now();
    const { metrics, tokens } = this.#options;
    let outcome = "error";
    const reservation = this.#options.inflight.reserve();
    try {
      const authorization = call.metadata.get("authorization")[0];
      if (!tokens.allows(typeof authorization === "string" ? authorization : undefined)) {
        outcome = "unauthenticated";
        throw Object.assign(new Error("a valid bearer token is required"), { code: status.UNAUTHENTICATED });
      }
      const body = call.request;
      metrics.bytes.inc({ protocol: "grpc", signal }, body.length);
      if (!reservation.tryGrow(body.length)) {
        throw new RefusedError({ kind: "throttled", message: "the ingest is at its in-flight limit; retry later" });
      }
      metrics.inflight.set(this.#options.inflight.used);
      const result = await this.#options.handler.export(signal, "protobuf", body, reservation);
      outcome = result.rejected > 0 ? "partial" : "ok";
      return result.response("protobuf");
    } catch (error) {
      if (error instanceof RefusedError) outcome = error.refusal.kind;
      throw error;
    } finally {
      reservation.release();
      metrics.inflight.set(this.#options.inflight.used);
      metrics.requests.inc({ protocol: "grpc", signal, outcome });
      metrics.duration.observe({ protocol: "grpc", signal }, (performance.now() - started) / 1000);
    }
  }

  #toStatus(signal: Signal, error: unknown): { code: number; details: string; metadata?: Metadata } {
    if (error instanceof RefusedError) {
      const { kind, message } = error.refusal;
      if (kind === "bad_request") return { code: status.INVALID_ARGUMENT, details: message };
      if (kind === "too_large") return { code: status.RESOURCE_EXHAUSTED, details: message };
      // UNAVAILABLE with RetryInfo is how OTLP/gRPC asks a client to back off and retry.
      const metadata = new Metadata();
      metadata.set("grpc-status-details-bin", retryInfoStatus(status.UNAVAILABLE, message, this.#options.retryAfterMs));
      return { code: status.UNAVAILABLE, details: message, metadata };
    }
    const code = (error as { code?: number }).code;
    if (code === status.UNAUTHENTICATED) return { code, details: (error as Error).message };
    this.#options.logger.error({ err: error, signal }, "unexpected error in the OTLP/gRPC receiver");
    return { code: status.INTERNAL, details: "internal error" };
  }
}
