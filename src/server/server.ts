/**
 * The TCP server: listener, connection limits, idle timeout, graceful
 * shutdown, and the choice of storage.
 *
 * @module
 */

import { ServerCounters } from "./counters.ts";
import { type HttpOptions, type HttpServer, serveHttp } from "./http/server.ts";
import { type FsyncMode, LogStore } from "./storage/log/store.ts";
import { MemoryStore } from "./storage/memory.ts";
import { Session } from "./session.ts";
import type { Storage } from "./storage/storage.ts";
import { checkInteger, checkNumber } from "../internal/options.ts";

/** Options of {@link serve}. */
export interface ServerOptions {
  /**
   * Address to listen on.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * TCP port to listen on; `0` picks a free one (read it from
   * {@link MetricsServer.port}).
   * @default {8888}
   */
  port?: number;
  /**
   * Directory of the append-only log that keeps points across restarts;
   * created if missing. Without it points live in memory only.
   * @default {undefined} in memory only
   */
  dataDir?: string;
  /**
   * When the log is forced to disk (with `dataDir`): `"batch"` before each
   * batch of puts is acknowledged (an acknowledged put survives power loss),
   * `"interval"` every `fsyncInterval` ms (an acknowledged put survives a
   * crash of the process; power loss may lose the last interval).
   * @default {"batch"}
   */
  fsync?: FsyncMode;
  /**
   * Milliseconds between forced writes in `"interval"` mode.
   * @default {1000}
   */
  fsyncInterval?: number;
  /**
   * Longest request line in bytes, without its `\n`. A longer line is
   * answered with an error and its connection closed.
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * Connections served at once; more are closed as soon as accepted.
   * @default {1024}
   */
  maxConnections?: number;
  /**
   * Connections served at once from one address, so one peer cannot take
   * every slot; more from it are closed as soon as accepted.
   * @default {a quarter of maxConnections}
   */
  maxConnectionsPerPeer?: number;
  /**
   * Seconds {@link MetricsServer.close} waits for connections to take
   * their answers before it closes them anyway, so a peer that stops
   * reading cannot hold shutdown.
   * @default {10}
   */
  shutdownTimeout?: number;
  /**
   * Most keys the built-in storage holds (in memory or with `dataDir`); a
   * put of a new key past it is answered `error` `too many keys`. A cap can
   * be passed by the puts of one read of each connection.
   * @default {1000000}
   */
  maxKeys?: number;
  /**
   * Most points the built-in storage holds; a put of a new point past it is
   * answered `error` `too many points` (rewriting a stored point is still
   * served). A point takes 16 bytes of memory, plus up to half again of
   * slack as series grow.
   * @default {100000000}
   */
  maxPoints?: number;
  /**
   * Seconds a connection may wait on its peer (for a request, or for the
   * peer to take an answer) before it is closed; `0` never closes one.
   * @default {300}
   */
  idleTimeout?: number;
  /**
   * Another backend to keep points in, instead of memory or `dataDir`.
   * The server closes it on {@link MetricsServer.close}. `maxKeys` and
   * `maxPoints` do not apply to it.
   * @default {undefined}
   */
  storage?: Storage;
  /**
   * Also serve the page, the JSON API and `/metrics` over HTTP (docs/
   * dashboard.md) at this address; off unless given.
   * @default {undefined}
   */
  http?: HttpOptions;
  /**
   * Receives diagnostics: storage summary and warnings, closed and refused
   * connections.
   * @default {console.error}
   */
  log?: (message: string) => void;
}

/** Where the HTTP side of a {@link MetricsServer} listens. */
export interface HttpAddress {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** The page's URL, `http://HOST:PORT/`. */
  readonly url: string;
}

/** A running server, from {@link serve}. */
export interface MetricsServer extends AsyncDisposable {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on (the one picked, when asked for `0`). */
  readonly port: number;
  /** Where the HTTP side listens, when `http` was given. */
  readonly http?: HttpAddress;
  /**
   * Stops gracefully: stops accepting, answers what was received, closes
   * the connections (any still busy after `shutdownTimeout`, unanswered)
   * and the storage (the log is flushed and forced to disk). Safe to call
   * more than once.
   */
  close(): Promise<void>;
  /**
   * Stops at once: like {@link MetricsServer.close}, but closes every
   * connection now, without waiting for answers to be taken. The storage
   * is still closed (the log flushed and forced to disk) before it
   * resolves.
   */
  terminate(): Promise<void>;
}

/** Pause after a failed accept (say, out of file descriptors). */
const ACCEPT_RETRY_MS = 100;

/**
 * Accept errors that only mean one peer reset before it was accepted (a
 * health check, a port scan): skip it and accept the next one at once.
 * Pausing on these let dead connections pile up and starved live ones.
 */
const PEER_GONE = [
  Deno.errors.NotConnected,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
];

/**
 * Starts a metrics server and resolves once it listens.
 *
 * @example
 * ```ts
 * import { serve } from "./server.ts";
 *
 * await using server = await serve({ port: 0 });
 * console.log(`listening on ${server.hostname}:${server.port}`);
 * ```
 * @throws {RangeError} for an invalid option.
 * @throws {Error} when the log cannot be opened or the address is in use.
 */
export async function serve(
  options: ServerOptions = {},
): Promise<MetricsServer> {
  const port = checkInteger("port", options.port ?? 8888, 0, 65535);
  const maxLineBytes = integer("maxLineBytes", options.maxLineBytes ?? 65536);
  const maxConnections = integer(
    "maxConnections",
    options.maxConnections ?? 1024,
  );
  const maxConnectionsPerPeer = integer(
    "maxConnectionsPerPeer",
    options.maxConnectionsPerPeer ?? Math.max(1, maxConnections >>> 2),
  );
  const idleTimeout = seconds("idleTimeout", options.idleTimeout ?? 300);
  const shutdownTimeout = seconds(
    "shutdownTimeout",
    options.shutdownTimeout ?? 10,
  );
  const caps = {
    maxKeys: integer("maxKeys", options.maxKeys ?? 1_000_000),
    maxPoints: checkInteger("maxPoints", options.maxPoints ?? 100_000_000),
  };
  const fsyncInterval = integer("fsyncInterval", options.fsyncInterval ?? 1000);
  if (
    options.fsync !== undefined &&
    !["batch", "interval"].includes(options.fsync)
  ) {
    throw new RangeError(
      `invalid fsync ${options.fsync}: use "batch" or "interval"`,
    );
  }
  if (options.storage !== undefined && options.dataDir !== undefined) {
    throw new RangeError("give storage or dataDir, not both");
  }
  const log = options.log ?? console.error;
  const counters = new ServerCounters();
  const storage = options.storage ??
    (options.dataDir === undefined
      ? new MemoryStore(caps)
      : await LogStore.open(options.dataDir, {
        fsync: options.fsync,
        fsyncInterval,
        log,
        onSync: (seconds) => counters.fsync.observe(seconds),
        ...caps,
      }));
  let listener: Deno.TcpListener | undefined;
  let http: HttpServer | undefined;
  try {
    listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port,
    });
    if (options.http !== undefined) {
      http = serveHttp(options.http, {
        storage,
        counters,
        logPath: storage instanceof LogStore ? storage.path : undefined,
        log,
      });
    }
  } catch (error) {
    listener?.close();
    await storage.close();
    throw error;
  }
  return new Server(
    listener,
    storage,
    {
      maxLineBytes,
      maxConnections,
      maxConnectionsPerPeer,
      idleTimeoutMs: idleTimeout * 1000,
      shutdownTimeoutMs: shutdownTimeout * 1000,
      log,
    },
    counters,
    http,
  );
}

/** Server options are whole numbers that fit a timer: below 2^31. */
function integer(name: string, value: number, min = 1): number {
  return checkInteger(name, value, min, 2 ** 31 - 1);
}

/** Seconds from 0 (none) up; timers take up to 2^31-1 ms. */
function seconds(name: string, value: number): number {
  return checkNumber(name, value, 0, { max: 2_000_000, unit: "seconds" });
}

interface Limits {
  readonly maxLineBytes: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerPeer: number;
  readonly idleTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly log: (message: string) => void;
}

class Server implements MetricsServer {
  readonly hostname: string;
  readonly port: number;
  readonly http: HttpAddress | undefined;
  readonly #listener: Deno.TcpListener;
  readonly #storage: Storage;
  readonly #limits: Limits;
  readonly #counters: ServerCounters;
  readonly #http: HttpServer | undefined;
  /** Each live session and the promise of its `run`. */
  readonly #sessions = new Map<Session, Promise<void>>();
  readonly #accepting: Promise<void>;
  readonly #idleTimer: ReturnType<typeof setInterval> | undefined;
  /** Live sessions per peer address. */
  readonly #perPeer = new Map<string, number>();
  /** Refusals are logged once per stretch at the limit, not per connection. */
  #refusing = false;
  /** Peers refused at their own limit, logged once per stretch. */
  readonly #refusedPeers = new Set<string>();
  #closing: Promise<void> | undefined;

  constructor(
    listener: Deno.TcpListener,
    storage: Storage,
    limits: Limits,
    counters: ServerCounters,
    http: HttpServer | undefined,
  ) {
    this.hostname = listener.addr.hostname;
    this.port = listener.addr.port;
    this.#counters = counters;
    this.#http = http;
    this.http = http &&
      { hostname: http.hostname, port: http.port, url: http.url };
    this.#listener = listener;
    this.#storage = storage;
    this.#limits = limits;
    this.#accepting = this.#accept();
    if (limits.idleTimeoutMs > 0) {
      this.#idleTimer = setInterval(
        () => this.#closeIdle(),
        Math.min(1000, limits.idleTimeoutMs / 2),
      );
    }
  }

  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  terminate(): Promise<void> {
    this.#closeSessions();
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #accept(): Promise<void> {
    const { maxConnections, maxConnectionsPerPeer, log } = this.#limits;
    while (!this.#closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing) return;
        if (PEER_GONE.some((type) => error instanceof type)) continue;
        log(`error: accepting a connection failed: ${error}`);
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      if (this.#sessions.size >= maxConnections) {
        if (!this.#refusing) {
          log(
            `refusing connections: maxConnections (${maxConnections}) reached`,
          );
        }
        this.#refusing = true;
        this.#counters.connectionsRefused++;
        conn.close();
        continue;
      }
      this.#refusing = false;
      const host = conn.remoteAddr.hostname;
      if ((this.#perPeer.get(host) ?? 0) >= maxConnectionsPerPeer) {
        if (!this.#refusedPeers.has(host)) {
          log(
            `refusing connections from ${host}: maxConnectionsPerPeer (${maxConnectionsPerPeer}) reached`,
          );
        }
        this.#refusedPeers.add(host);
        conn.close();
        continue;
      }
      this.#refusedPeers.delete(host);
      this.#start(conn);
    }
  }

  #start(conn: Deno.TcpConn): void {
    const { maxLineBytes, log } = this.#limits;
    try {
      conn.setNoDelay(true);
    } catch {
      // The peer already left; the first read will say so.
    }
    const counters = this.#counters;
    const session = new Session(conn, {
      storage: this.#storage,
      maxLineBytes,
      log,
      counters,
    });
    counters.connectionsAccepted++;
    counters.connectionsOpen++;
    const host = session.peerHost;
    this.#perPeer.set(host, (this.#perPeer.get(host) ?? 0) + 1);
    this.#sessions.set(
      session,
      session.run().finally(() => {
        counters.connectionsOpen--;
        this.#sessions.delete(session);
        const left = this.#perPeer.get(host)! - 1;
        if (left === 0) this.#perPeer.delete(host);
        else this.#perPeer.set(host, left);
      }),
    );
  }

  #closeIdle(): void {
    const deadline = Date.now() - this.#limits.idleTimeoutMs;
    for (const session of this.#sessions.keys()) {
      const since = session.waitingSince;
      if (since !== undefined && since <= deadline) {
        this.#limits.log(`closing idle connection from ${session.peer}`);
        session.close();
      }
    }
  }

  #closeSessions(): void {
    for (const session of this.#sessions.keys()) session.close();
  }

  async #shutdown(): Promise<void> {
    await this.#http?.close();
    this.#listener.close();
    await this.#accepting;
    for (const session of this.#sessions.keys()) session.stop();
    // A peer that does not take its answers cannot hold shutdown longer.
    const deadline = setTimeout(
      () => this.#closeSessions(),
      this.#limits.shutdownTimeoutMs,
    );
    try {
      await Promise.all(this.#sessions.values());
    } finally {
      clearTimeout(deadline);
      clearInterval(this.#idleTimer);
    }
    await this.#storage.close();
  }
}
