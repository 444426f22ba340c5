/**
 * The TCP server: listener, connection limits, idle timeout, graceful
 * shutdown, and the choice of storage.
 *
 * @module
 */

import { ServerCounters } from "./counters.ts";
import { type HttpServer, serveHttp } from "./http/server.ts";
import { EngineStore } from "./storage/engine/durable.ts";
import { ChunkStore } from "./storage/engine/store.ts";
import { checkServerOptions, type ServerOptions } from "./options.ts";
import { MemoryStore } from "./storage/memory.ts";
import { RetentionStorage } from "./storage/retention.ts";
import { Session } from "./session.ts";
import type { Storage } from "./storage/storage.ts";
import { AccessGuard, type AccessStats } from "./access.ts";
import { openListeners } from "./listeners.ts";
import type { PendingBudget } from "./pending.ts";
import { acceptLoop } from "./accept.ts";
import { ConnectionSlots } from "./slots.ts";
import { CarbonSession } from "./graphite/carbon_session.ts";
import { LogThrottle } from "./log_throttle.ts";
import { KeyCache } from "./key_cache.ts";

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
  /** The plain-TCP port on 127.0.0.1 next to a TLS one, if asked for. */
  readonly plainPort: number | undefined;
  /** Where the carbon plaintext port listens, when `graphite` was given. */
  readonly graphite?: { readonly hostname: string; readonly port: number };
  /** Refused peers and failed TLS handshakes since the start. */
  accessStats(): AccessStats;
  /**
   * Stops gracefully: stops accepting, answers what was received, closes
   * the connections (any still busy after `shutdownTimeout`, unanswered)
   * and the storage (with `dataDir`, a checkpoint is written). Safe to call
   * more than once.
   */
  close(): Promise<void>;
  /**
   * Stops at once: like {@link MetricsServer.close}, but closes every
   * connection now, without waiting for answers to be taken. The storage
   * is still closed (with `dataDir`, a checkpoint written) before it
   * resolves.
   */
  terminate(): Promise<void>;
}

/**
 * Points parsed and handed to storage but not answered yet, across every
 * connection, unless the storage says otherwise (`Storage.pendingPoints`):
 * a connection may always have one batch pending, more only below this.
 */
const MAX_PENDING_POINTS = 65_536;
/**
 * Points an ingest seals on the main thread before `--data` starts the
 * seal worker: on the fleet workload its start and warm-up cost more CPU
 * than it saved over 2 M points, and saved the main thread about 15% of
 * its CPU over 20 M.
 */
const SEAL_WORKER_AFTER = 3_000_000;

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
 * @throws {Error} when the data directory cannot be opened or the address
 * is in use.
 */
export async function serve(
  options: ServerOptions = {},
): Promise<MetricsServer> {
  const checked = checkServerOptions(options);
  const log = options.log ?? console.error;
  const counters = new ServerCounters();
  const access = new AccessGuard(options.allowFrom, log, counters);
  const store = options.storage ??
    (options.dataDir === undefined
      ? new MemoryStore(checked.caps)
      : await EngineStore.open(
        options.dataDir,
        // Full heads are encoded on a second thread (`seal_queue.ts`)
        // once an ingest has gone on for 3 M points.
        new ChunkStore({
          ...checked.caps,
          sealWorker: true,
          sealWorkerAfter: SEAL_WORKER_AFTER,
        }),
        {
          fsync: options.fsync,
          fsyncInterval: Math.round(checked.fsyncInterval * 1000),
          log,
          onSync: (seconds) => counters.fsync.observe(seconds),
          maxDiskBytes: checked.maxDisk,
          onSizeDeleted: (points) => counters.retentionDeleted.size += points,
        },
      ));
  const storage = checked.retention === undefined
    ? store
    : new RetentionStorage(store, {
      seconds: checked.retention,
      onExpired: (points) => counters.retentionDeleted.age += points,
      onError: (error) =>
        log(`warning: deleting expired points failed: ${String(error)}`),
    });
  let listeners: Deno.Listener[] = [];
  let carbon: Deno.Listener | undefined;
  let http: HttpServer | undefined;
  try {
    listeners = openListeners({
      hostname: options.hostname ?? "127.0.0.1",
      port: checked.port,
      tls: options.tls,
      plainPort: checked.plainPort,
    });
    if (options.graphite !== undefined) {
      // The carbon port makes the protocol port's TLS choice.
      [carbon] = openListeners({
        hostname: options.graphite.hostname ?? "127.0.0.1",
        port: checked.graphitePort!,
        tls: options.tls,
        option: "graphite",
      });
    }
    if (options.http !== undefined) {
      http = serveHttp(options.http, {
        storage,
        counters,
        access,
        data: store instanceof EngineStore ? store : undefined,
        log,
        shutdownTimeoutMs: checked.shutdownTimeout * 1000,
      });
    }
  } catch (error) {
    for (const listener of listeners) listener.close();
    carbon?.close();
    await storage.close();
    throw error;
  }
  return new Server(
    listeners,
    storage,
    {
      maxLineBytes: checked.maxLineBytes,
      maxConnections: checked.maxConnections,
      maxConnectionsPerPeer: checked.maxConnectionsPerPeer,
      idleTimeoutMs: checked.idleTimeout * 1000,
      shutdownTimeoutMs: checked.shutdownTimeout * 1000,
      log,
    },
    counters,
    http,
    access,
    carbon,
  );
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
  readonly plainPort: number | undefined;
  readonly graphite: { hostname: string; port: number } | undefined;
  readonly #listeners: Deno.Listener[];
  readonly #access: AccessGuard;
  readonly #storage: Storage;
  readonly #limits: Limits;
  readonly #counters: ServerCounters;
  readonly #http: HttpServer | undefined;
  /** Each live session (both ports') and the promise of its `run`. */
  readonly #sessions = new Map<Session | CarbonSession, Promise<void>>();
  /** Bad and refused carbon lines are logged at most once a minute per address. */
  readonly #badCarbonLines = new LogThrottle();
  readonly #refusedCarbonLines = new LogThrottle();
  readonly #accepting: Promise<void>;
  readonly #idleTimer: ReturnType<typeof setInterval> | undefined;
  readonly #slots: ConnectionSlots;
  #closing: Promise<void> | undefined;
  /** Points handed to storage and not answered, across connections. */
  readonly #pending: PendingBudget;
  readonly #keys = new KeyCache();

  constructor(
    listeners: Deno.Listener[],
    storage: Storage,
    limits: Limits,
    counters: ServerCounters,
    http: HttpServer | undefined,
    access: AccessGuard,
    carbon: Deno.Listener | undefined,
  ) {
    const [main, plain] = listeners.map((l) => l.addr as Deno.NetAddr);
    const carbonAddr = carbon?.addr as Deno.NetAddr | undefined;
    this.graphite = carbonAddr &&
      { hostname: carbonAddr.hostname, port: carbonAddr.port };
    this.hostname = main.hostname;
    this.port = main.port;
    this.plainPort = plain?.port;
    this.#counters = counters;
    this.#http = http;
    this.http = http &&
      { hostname: http.hostname, port: http.port, url: http.url };
    this.#listeners = carbon ? [...listeners, carbon] : listeners;
    this.#access = access;
    this.#storage = storage;
    this.#pending = {
      used: 0,
      max: storage.pendingPoints ?? MAX_PENDING_POINTS,
    };
    this.#limits = limits;
    this.#slots = new ConnectionSlots({
      max: limits.maxConnections,
      maxPerPeer: limits.maxConnectionsPerPeer,
      what: "connections",
      names: {
        max_connections: "maxConnections",
        max_connections_per_peer: "maxConnectionsPerPeer",
      },
      refused: counters.connectionsRefused,
      log: limits.log,
    });
    this.#accepting = Promise.all(
      this.#listeners.map((listener) =>
        acceptLoop(listener, (conn) => this.#admit(conn, listener === carbon), {
          what: listener === carbon ? "a carbon connection" : "a connection",
          log: limits.log,
          stopped: () => this.#closing !== undefined,
        })
      ),
    ).then(() => {});
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

  accessStats(): AccessStats {
    return this.#access.stats();
  }

  /** Starts serving `conn` if the allow-list and the caps let it in. */
  #admit(conn: Deno.Conn, carbon: boolean): void {
    if (!this.#access.admit(conn)) return;
    if (!this.#slots.take((conn.remoteAddr as Deno.NetAddr).hostname)) {
      conn.close();
      return;
    }
    this.#start(conn, carbon);
  }

  #start(conn: Deno.Conn, carbon: boolean): void {
    const { maxLineBytes, log } = this.#limits;
    try {
      // A TLS connection has no such method (its socket is Deno's).
      (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
    } catch {
      // The peer already left; the first read will say so.
    }
    const counters = this.#counters;
    const options = {
      storage: this.#storage,
      maxLineBytes,
      log,
      counters,
      pending: this.#pending,
      keys: this.#keys,
      onHandshakeError: (error: unknown) =>
        this.#access.handshakeFailed(
          (conn.remoteAddr as Deno.NetAddr).hostname,
          error,
        ),
    };
    const session = carbon
      ? new CarbonSession(conn, {
        ...options,
        badLines: this.#badCarbonLines,
        refusedLines: this.#refusedCarbonLines,
      })
      : new Session(conn, options);
    counters.connectionsAccepted++;
    counters.connectionsOpen++;
    this.#sessions.set(
      session,
      session.run().finally(() => {
        counters.connectionsOpen--;
        this.#sessions.delete(session);
        this.#slots.release(session.peerHost);
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
    // Both sides drain at once, each bounded by shutdownTimeout.
    const httpClosed = this.#http?.close();
    for (const listener of this.#listeners) listener.close();
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
      // The HTTP side reads the storage: it must be done first.
      await httpClosed;
    }
    await this.#storage.close();
  }
}
