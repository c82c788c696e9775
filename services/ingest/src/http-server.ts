import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttp1Server } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from "node:http2";
import { createServer as createH2cServer, createSecureServer } from "node:http2";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import { createServer as createNetServer } from "node:net";
import { Duplex } from "node:stream";

/** A request of either HTTP version, through Node's compatibility API (the receiver needs nothing version-specific). */
export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;
export type Listener = (request: AnyRequest, response: AnyResponse) => void;

/** `writeHead` has the same shape in both versions; TypeScript cannot call it through the union. */
export function writeHead(response: AnyResponse, status: number, headers: Record<string, string | number>): void {
  (response as ServerResponse).writeHead(status, headers);
}

// Every HTTP/2 connection starts with this preface (RFC 9113 §3.4); no HTTP/1 request line starts with "PRI ".
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface OtlpHttpServer {
  listen(port: number, host: string): Promise<void>;
  /** Stops accepting, waits for requests in flight, closes idle connections. */
  close(): Promise<void>;
  port(): number;
}

/**
 * OTLP/HTTP over HTTP/1.1 and HTTP/2 on one port, as the OTLP specification allows both. With TLS, ALPN picks the
 * version (the Collector's Go client negotiates h2). Without TLS, an HTTP/2 client must use prior knowledge (h2c):
 * the first bytes of a connection tell which server gets it, so both share the port.
 */
export function createOtlpHttpServer(listener: Listener, tls?: { cert: Buffer; key: Buffer }): OtlpHttpServer {
  const sessions = new Set<Http2Session>();
  const track = (session: Http2Session): void => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  };
  // Server.close() leaves HTTP/2 sessions open (they are persistent): end them gracefully (GOAWAY, in-flight
  // streams finish) so that shutdown waits for requests, not for clients to hang up.
  const closeSessions = (): void => {
    for (const session of sessions) session.close();
  };
  if (tls !== undefined) {
    const server = createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: true }, listener);
    server.setTimeout(65_000);
    server.on("session", track);
    return wrap(server, closeSessions);
  }
  const http1 = createHttp1Server(listener);
  http1.headersTimeout = 10_000;
  http1.requestTimeout = 60_000;
  http1.keepAliveTimeout = 65_000;
  const h2c = createH2cServer(listener);
  h2c.setTimeout(65_000);
  h2c.on("session", track);
  const sockets = new Set<Socket>();
  const front = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    sniff(socket, (isH2, seen) => {
      if (isH2) {
        h2c.emit("connection", replaying(socket, seen));
      } else {
        socket.unshift(seen);
        http1.emit("connection", socket);
      }
    });
  });
  // Node's HTTP/1 server tracks its connections (for headersTimeout, requestTimeout and closing idle keep-alive
  // connections) from its 'listening' event; this one never listens itself, so it is told when the front does.
  front.once("listening", () => http1.emit("listening"));
  return wrap(front, () => {
    // The inner servers never listen; closing them marks them closed (HTTP/1 then ends keep-alive connections after
    // their current response) and closes idle connections.
    http1.close();
    h2c.close();
    closeSessions();
    // A connection that never sent a byte belongs to neither server yet.
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
  });
}

/** Reads just enough of a new connection to tell HTTP/2's preface from an HTTP/1 request. */
function sniff(socket: Socket, route: (isH2: boolean, seen: Buffer) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const isH2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isH2 && seen.length < H2_PREFACE.length) return; // a prefix of the preface so far: wait for more
    socket.off("data", onData);
    socket.off("error", onError);
    socket.pause();
    route(isH2, seen);
    socket.resume();
  };
  const onError = (): void => {
    socket.destroy();
  };
  socket.on("data", onData);
  socket.on("error", onError);
}

/**
 * The socket as a stream that first replays the bytes already read. HTTP/1's parser reads what `unshift` puts back,
 * but an HTTP/2 session reads the socket's handle directly and would miss the preface; through a JS stream it sees
 * everything (Node wraps non-native streams itself; h2c is the rarer path, TLS negotiates h2 without this).
 */
function replaying(socket: Socket, seen: Buffer): Duplex {
  const stream = new Duplex({
    read: () => {
      socket.resume();
    },
    write: (chunk: Buffer, _encoding, callback) => {
      socket.write(chunk, callback);
    },
    final: (callback) => {
      socket.end(callback);
    },
    destroy: (error, callback) => {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  stream.push(seen);
  socket.on("data", (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on("end", () => stream.push(null));
  socket.on("error", (error) => stream.destroy(error));
  socket.on("close", () => stream.destroy());
  return stream;
}

function wrap(server: NetServer, closeIdle: () => void): OtlpHttpServer {
  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      }),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      closeIdle();
      await closed;
    },
    port: () => (server.address() as AddressInfo).port,
  };
}
