import type { OtlpEncoding } from "@meshloop/otlp";
import { encodeRpcStatus } from "@meshloop/otlp";
import type { Refusal } from "./export-handler.ts";
import { RefusedError } from "./export-handler.ts";
import type { AnyRequest as IncomingMessage, AnyResponse as ServerResponse, OtlpHttpServer } from "./http-server.ts";
import { createOtlpHttpServer, writeHead } from "./http-server.ts";
import type { Reservation } from "./inflight.ts";
import type { Signal } from "./ingest-metrics.ts";
import type { ReceiverOptions } from "./receiver-options.ts";


const paths: Record<string, Signal> = { "/v1/traces": "traces", "/v1/metrics": "metrics" };
const contentTypes: Record<OtlpEncoding, string> = { protobuf: "application/x-protobuf", json: "application/json" };

// google.rpc.Code values carried in the Status body of HTTP failures.
const rpcCodes = { bad_request: 3, too_large: 8, throttled: 14, unavailable: 14, unauthenticated: 16, not_found: 5, internal: 13 };

/**
 * OTLP/HTTP: POST /v1/traces and /v1/metrics, protobuf or JSON, optionally gzip, answered in the request's encoding;
 * HTTP/1.1 and HTTP/2 on the same port (http-server.ts).
 */
export class HttpReceiver {
  readonly #options: ReceiverOptions;
  readonly #server: OtlpHttpServer;

  constructor(options: ReceiverOptions) {
    this.#options = options;
    const listener = (request: IncomingMessage, response: ServerResponse): void => {
      this.#handle(request, response).catch((error: unknown) => {
        options.logger.error({ err: error }, "unexpected error in the OTLP/HTTP receiver");
        if (!response.headersSent) this.#fail(response, "protobuf", 500, rpcCodes.internal, "internal error");
        else response.destroy();
      });
    };
    this.#server = createOtlpHttpServer(listener, options.tls);
  }

  start(): Promise<void> {
    return this.#server.listen(this.#options.port, this.#options.host);
  }

  /** Stops accepting connections and waits for requests in flight; idle keep-alive connections are closed. */
  stop(): Promise<void> {
    return this.#server.close();
  }

  port(): number {
    return this.#server.port();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const { metrics, tokens } = this.#options;
    const path = request.url === undefined ? "" : request.url.split("?", 1)[0]!;
    const signal = paths[path];
    const encoding = encodingOf(request.headers["content-type"]);
    if (signal === undefined) {
      request.resume();
      return this.#fail(response, encoding ?? "json", 404, rpcCodes.not_found, `no OTLP endpoint at ${path}; use /v1/traces or /v1/metrics`);
    }
    const outcome = (name: string): void => {
      metrics.requests.inc({ protocol: "http", signal, outcome: name });
      metrics.duration.observe({ protocol: "http", signal }, (performance.now() - started) / 1000);
    };
    if (request.method !== "POST") {
      request.resume();
      response.setHeader("Allow", "POST");
      outcome("method_not_allowed");
      return this.#fail(response, encoding ?? "json", 405, rpcCodes.bad_request, `${request.method ?? "?"} is not allowed; OTLP exports are POST`);
    }
    if (encoding === undefined) {
      request.resume();
      outcome("unsupported_media_type");
      return this.#fail(response, "json", 415, rpcCodes.bad_request,
        `unsupported Content-Type ${JSON.stringify(request.headers["content-type"] ?? "")}; send application/x-protobuf or application/json`);
    }
    const contentEncoding = (request.headers["content-encoding"] ?? "identity").toLowerCase();
    if (contentEncoding !== "gzip" && contentEncoding !== "identity") {
      request.resume();
      outcome("unsupported_media_type");
      return this.#fail(response, encoding, 415, rpcCodes.bad_request, `unsupported Content-Encoding ${contentEncoding}; send gzip or none`);
    }
    if (!tokens.allows(request.headers.authorization)) {
      request.resume();
      response.setHeader("WWW-Authenticate", 'Bearer realm="meshloop"');
      outcome("unauthenticated");
      return this.#fail(response, encoding, 401, rpcCodes.unauthenticated, "a valid bearer token is required");
    }
    const reservation = this.#options.inflight.reserve();
    try {
      const raw = await this.#readBody(request, reservation);
      metrics.bytes.inc({ protocol: "http", signal }, raw.length);
      const body = contentEncoding === "gzip" ? await this.#options.handler.inflate(raw, reservation) : raw;
      metrics.inflight.set(this.#options.inflight.used);
      const result = await this.#options.handler.export(signal, encoding, body, reservation);
      const payload = result.response(encoding);
      outcome(result.rejected > 0 ? "partial" : "ok");
      writeHead(response, 200, { "Content-Type": contentTypes[encoding], "Content-Length": payload.length });
      response.end(payload);
    } catch (error) {
      if (!(error instanceof RefusedError)) throw error;
      outcome(error.refusal.kind);
      this.#refuse(request, response, encoding, error.refusal);
    } finally {
      reservation.release();
      metrics.inflight.set(this.#options.inflight.used);
    }
  }

  /** Reads the body within the size limit, reserving its bytes as they arrive. */
  #readBody(request: IncomingMessage, reservation: Reservation): Promise<Buffer> {
    const max = this.#options.handler.maxBodyBytes;
    const declared = Number(request.headers["content-length"] ?? Number.NaN);
    if (declared > max) {
      return Promise.reject(new RefusedError({ kind: "too_large", message: `body of ${declared} bytes is over the limit of ${max}` }));
    }
    if (Number.isFinite(declared) && declared > 0 && !reservation.tryGrow(declared)) {
      return Promise.reject(new RefusedError({ kind: "throttled", message: "the ingest is at its in-flight limit; retry later" }));
    }
    const reserveChunks = !(Number.isFinite(declared) && declared > 0);
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      const fail = (refusal: RefusedError): void => {
        request.off("data", onData);
        reject(refusal);
      };
      const onData = (chunk: Buffer): void => {
        total += chunk.length;
        if (total > max) return fail(new RefusedError({ kind: "too_large", message: `body is over the limit of ${max} bytes` }));
        if (reserveChunks && !reservation.tryGrow(chunk.length)) {
          return fail(new RefusedError({ kind: "throttled", message: "the ingest is at its in-flight limit; retry later" }));
        }
        chunks.push(chunk);
      };
      request.on("data", onData);
      request.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)));
      request.once("error", (error) => reject(new RefusedError({ kind: "bad_request", message: `request body broke off: ${error.message}` })));
    });
  }

  #refuse(request: IncomingMessage, response: ServerResponse, encoding: OtlpEncoding, refusal: Refusal): void {
    switch (refusal.kind) {
      case "bad_request":
        return this.#fail(response, encoding, 400, rpcCodes.bad_request, refusal.message);
      case "too_large":
        // The rest of an oversized body is not worth reading: answer, then close the connection.
        if (request.httpVersionMajor === 1) response.setHeader("Connection", "close");
        this.#fail(response, encoding, 413, rpcCodes.too_large, refusal.message);
        response.once("finish", () => request.destroy());
        return;
      case "throttled":
      case "unavailable":
        if (!request.complete && request.httpVersionMajor === 1) response.setHeader("Connection", "close");
        response.setHeader("Retry-After", String(Math.ceil(this.#options.retryAfterMs / 1000)));
        this.#fail(response, encoding, 503, rpcCodes[refusal.kind], refusal.message);
        if (!request.complete) response.once("finish", () => request.destroy());
        return;
    }
  }

  #fail(response: ServerResponse, encoding: OtlpEncoding, status: number, code: number, message: string): void {
    const body = encodeRpcStatus(code, message, encoding);
    writeHead(response, status, { "Content-Type": contentTypes[encoding], "Content-Length": body.length });
    response.end(body);
  }
}

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  if (contentType === undefined) return undefined;
  const base = contentType.split(";", 1)[0]!.trim().toLowerCase();
  if (base === "application/x-protobuf" || base === "application/protobuf") return "protobuf";
  if (base === "application/json") return "json";
  return undefined;
}
