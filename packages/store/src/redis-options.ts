import type { ConnectionOptions } from "node:tls";
import { ConfigError } from "@meshloop/errors";

export interface RedisStoreOptions {
  /** `redis://[username:password@]host[:port][/db]`, or `rediss://` for TLS. Credentials are percent-encoded. */
  url: string;
  /** Namespace of every key (`meshloop:` in production, a unique one per test); "" only for a Redis of our own. */
  keyPrefix: string;
  /** How long one connection attempt may take. 5000 ms by default. */
  connectTimeoutMs?: number;
  /** How long a command may wait for its reply, queued while reconnecting included. 5000 ms by default. */
  commandTimeoutMs?: number;
  /** `true` for TLS with the system's CAs, or node:tls options (ca, cert, key) for private CAs and mTLS. */
  tls?: boolean | ConnectionOptions;
  /** ACL user and password, for when they should not be in the URL (from a secret file, say). */
  username?: string;
  password?: string;
}

export interface ResolvedRedisStoreOptions {
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  tls: ConnectionOptions | undefined;
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** The server as `redis://host:port/db`, never with credentials: what messages name. */
  address: string;
}

/** Checks the options once, up front, with messages that say what is wrong; they never repeat a password. */
export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  if (typeof options.url !== "string" || options.url === "") {
    throw new ConfigError("redis store: url is required, as redis://host:port or rediss://host:port for TLS");
  }
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (error) {
    // The URL is not repeated: it may hold a password.
    throw new ConfigError("redis store: url is not a valid URL; expected redis://[user:password@]host[:port][/db]", {
      cause: error,
    });
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ConfigError(`redis store: url must start with redis:// or rediss:// (TLS), not ${url.protocol}//`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new ConfigError("redis store: url must name a host, as redis://host:port");
  const port = url.port === "" ? 6379 : Number(url.port);
  const dbPath = url.pathname.replace(/^\//, "");
  if (dbPath !== "" && !/^\d{1,5}$/.test(dbPath)) {
    throw new ConfigError(`redis store: the url's path must be a database number (redis://host:port/0), got "/${dbPath}"`);
  }
  const db = dbPath === "" ? 0 : Number(dbPath);

  if (typeof options.keyPrefix !== "string") {
    throw new ConfigError('redis store: keyPrefix must be a string, such as "meshloop:"; it namespaces every key');
  }
  const connectTimeoutMs = positiveInteger("connectTimeoutMs", options.connectTimeoutMs, 5000);
  const commandTimeoutMs = positiveInteger("commandTimeoutMs", options.commandTimeoutMs, 5000);

  const username = credential("username", url.username, options.username);
  const password = credential("password", url.password, options.password);
  if (username !== undefined && password === undefined) {
    throw new ConfigError("redis store: a username needs a password (Redis ACL users authenticate with both)");
  }

  let tls: ConnectionOptions | undefined;
  if (url.protocol === "rediss:") {
    if (options.tls === false) throw new ConfigError("redis store: tls is false but the url is rediss://, which means TLS");
    tls = typeof options.tls === "object" ? options.tls : {};
  } else if (options.tls !== undefined && options.tls !== false) {
    tls = options.tls === true ? {} : options.tls;
  }

  return {
    host,
    port,
    db,
    username,
    password,
    tls,
    keyPrefix: options.keyPrefix,
    connectTimeoutMs,
    commandTimeoutMs,
    address: `${url.protocol}//${url.host}/${db}`,
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`redis store: ${name} must be a positive integer of milliseconds, got ${value}`);
  }
  return value;
}

/** A credential from the URL or from its own option; both at once is refused rather than one silently winning. */
function credential(name: string, fromUrl: string, fromOption: string | undefined): string | undefined {
  if (fromUrl !== "" && fromOption !== undefined) {
    throw new ConfigError(`redis store: ${name} is given both in the url and as an option; give it once`);
  }
  if (fromOption !== undefined) {
    if (typeof fromOption !== "string" || fromOption === "") {
      throw new ConfigError(`redis store: ${name} must be a non-empty string when given`);
    }
    return fromOption;
  }
  if (fromUrl === "") return undefined;
  try {
    return decodeURIComponent(fromUrl);
  } catch (error) {
    throw new ConfigError(`redis store: the ${name} in the url is not valid percent-encoding`, { cause: error });
  }
}
