/**
 * The TCP server: listener, connection limits, idle timeout, graceful
 * shutdown, and the choice of storage.
 *
 * @module
 */

import { type FsyncMode, LogStore } from "./storage/log/store.ts";
import { MemoryStore } from "./storage/memory.ts";
import { Session } from "./session.ts";
import type { Storage } from "./storage/storage.ts";
import { checkInteger } from "../internal/options.ts";

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
   * `"interval"` every `fsyncInterval` seconds (an acknowledged put survives a
   * crash of the process; power loss may lose the last interval).
   * @default {"batch"}
   */
  fsync?: FsyncMode;
  /**
   * Seconds between forced writes in `"interval"` mode (`0.2` is 200 ms).
   * @default {1}
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
   * Seconds a connection may wait on its peer (for a request, or for the
   * peer to take an answer) before it is closed; `0` never closes one.
   * @default {300}
   */
  idleTimeout?: number;
  /**
   * Another backend to keep points in, instead of memory or `dataDir`.
   * The server closes it on {@link MetricsServer.close}.
   * @default {undefined}
   */
  storage?: Storage;
  /**
   * Receives diagnostics: storage summary and warnings, closed and refused
   * connections.
   * @default {console.error}
   */
  log?: (message: string) => void;
}

/** A running server, from {@link serve}. */
export interface MetricsServer extends AsyncDisposable {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on (the one picked, when asked for `0`). */
  readonly port: number;
  /**
   * Stops gracefully: stops accepting, answers what was received, closes
   * the connections and the storage (the log is flushed and forced to
   * disk). Safe to call more than once.
   */
  close(): Promise<void>;
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
  const idleTimeout = options.idleTimeout ?? 300;
  if (!(idleTimeout >= 0 && idleTimeout <= 2_000_000)) {
    throw new RangeError(
      `invalid idleTimeout ${idleTimeout}: use seconds from 0 (none) up`,
    );
  }
  const fsyncInterval = options.fsyncInterval ?? 1;
  if (!(fsyncInterval >= 0.001 && fsyncInterval <= 2_000_000)) {
    throw new RangeError(
      `invalid fsyncInterval ${fsyncInterval}: use seconds from 0.001 to 2000000`,
    );
  }
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
  const storage = options.storage ??
    (options.dataDir === undefined
      ? new MemoryStore()
      : await LogStore.open(options.dataDir, {
        fsync: options.fsync,
        fsyncInterval: Math.round(fsyncInterval * 1000),
        log,
      }));
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port,
    });
  } catch (error) {
    await storage.close();
    throw error;
  }
  return new Server(listener, storage, {
    maxLineBytes,
    maxConnections,
    idleTimeoutMs: idleTimeout * 1000,
    log,
  });
}

/** Server options are whole numbers that fit a timer: below 2^31. */
function integer(name: string, value: number, min = 1): number {
  return checkInteger(name, value, min, 2 ** 31 - 1);
}

interface Limits {
  readonly maxLineBytes: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly log: (message: string) => void;
}

class Server implements MetricsServer {
  readonly hostname: string;
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #storage: Storage;
  readonly #limits: Limits;
  /** Each live session and the promise of its `run`. */
  readonly #sessions = new Map<Session, Promise<void>>();
  readonly #accepting: Promise<void>;
  readonly #idleTimer: ReturnType<typeof setInterval> | undefined;
  /** Refusals are logged once per stretch at the limit, not per connection. */
  #refusing = false;
  #closing: Promise<void> | undefined;

  constructor(listener: Deno.TcpListener, storage: Storage, limits: Limits) {
    this.hostname = listener.addr.hostname;
    this.port = listener.addr.port;
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

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #accept(): Promise<void> {
    const { maxConnections, log } = this.#limits;
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
        conn.close();
        continue;
      }
      this.#refusing = false;
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
    const session = new Session(conn, {
      storage: this.#storage,
      maxLineBytes,
      log,
    });
    this.#sessions.set(
      session,
      session.run().finally(() => this.#sessions.delete(session)),
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

  async #shutdown(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const session of this.#sessions.keys()) session.stop();
    // The idle timer still runs: it ends a session stuck on a peer that
    // does not read its answers.
    await Promise.all(this.#sessions.values());
    clearInterval(this.#idleTimer);
    await this.#storage.close();
  }
}
