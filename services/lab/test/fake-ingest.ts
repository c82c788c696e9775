import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { visitSpans } from "@meshloop/otlp";

/** Stands in for ingest's OTLP/HTTP endpoint: takes protobuf trace exports and keeps every span, decoded. */

export interface ReceivedSpan {
  service: string;
  version: string | undefined;
  instanceId: string | undefined;
  namespace: string | undefined;
  k8sNamespace: string | undefined;
  name: string;
  /** 2 server, 3 client. */
  kind: number;
  statusCode: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  startMs: number;
  attributes: Record<string, string | number | boolean | undefined>;
}

const ATTRIBUTES = ["http.response.status_code", "http.route", "server.address", "peer.service", "http.request.method", "error.type", "http.request.resend_count"];

export interface FakeIngest {
  url: string;
  spans: ReceivedSpan[];
  requests: number;
  close(): Promise<void>;
}

export async function startFakeIngest(): Promise<FakeIngest> {
  const state: FakeIngest = { url: "", spans: [], requests: 0, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      state.requests++;
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      if (req.url !== "/v1/traces" || req.headers["content-type"] !== "application/x-protobuf") {
        res.writeHead(400).end();
        return;
      }
      visitSpans(body, (span) => {
        const attributes: ReceivedSpan["attributes"] = {};
        for (const key of ATTRIBUTES) attributes[key] = span.attribute(key);
        const resource = span.resource.attributes;
        state.spans.push({
          service: span.resource.service,
          version: resource.serviceVersion,
          instanceId: resource.serviceInstanceId,
          namespace: resource.serviceNamespace,
          k8sNamespace: resource.k8sNamespaceName,
          name: span.name(),
          kind: span.kind,
          statusCode: span.statusCode,
          traceId: span.traceIdHex(),
          spanId: span.spanIdHex(),
          parentSpanId: span.parentSpanIdHex(),
          startMs: span.startTimeUnixNano / 1e6,
          attributes,
        });
      });
      // An empty ExportTraceServiceResponse: full success.
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}
