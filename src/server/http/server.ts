/**
 * The HTTP side of the metrics server: the page, the JSON API and
 * `/metrics`, from the same process and store as the TCP protocol, served
 * on `Deno.listen` by a small HTTP/1.1 layer ({@link HttpConnection}):
 * `Deno.serve` stops for good on its first accept error (out of file
 * descriptors) and has no cap on connections and no timeouts for slow or
 * idle peers.
 *
 * Bounded everywhere: the allow-list and a cap on connections (in all and
 * per address) at accept, a deadline for each request's head, an idle
 * timeout, at most `maxRequests` requests answered at once (503 past it),
 * and the requests that read the store in a short line (429 past it).
 * Closing answers new requests 503, ends live streams, waits for the
 * requests being answered up to the shutdown timeout, then closes every
 * HTTP connection, so a peer that stalls cannot hold shutdown.
 *
 * @module
 */

import { checkInteger, checkNumber } from "../../internal/options.ts";
import { acceptLoop } from "../accept.ts";
import { listenFor } from "../listeners.ts";
import type { AccessGuard } from "../access.ts";
import type { HttpTimeoutKind, ServerCounters } from "../counters.ts";
import { LogThrottle } from "../log_throttle.ts";
import { ConnectionSlots } from "../slots.ts";
import type { Storage } from "../storage/storage.ts";
import { type ConnectionHooks, HttpConnection } from "./connection.ts";
import { LiveEvents } from "./events.ts";
import { ReadQueue } from "./reads.ts";
import { createHandler, type DataDirectory } from "./routes.ts";
import { type Answer, errorAnswer } from "./wire.ts";

/** Where the HTTP side listens, and its limits. */
export interface HttpOptions {
  /**
   * Address to listen on.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** TCP port; `0` picks a free one. */
  port: number;
  /**
   * Live pages (event streams) open at once; more get a 503.
   * @default {64}
   */
  maxLivePages?: number;
  /**
   * Requests answered at once, live pages included; more get a 503 and
   * are counted in `/metrics` (`metrics_http_requests_refused_total`).
   * @default {256}
   */
  maxRequests?: number;
  /**
   * HTTP connections open at once; more are closed as soon as accepted.
   * @default {256}
   */
  maxConnections?: number;
  /**
   * HTTP connections open at once from one address; more from it are
   * closed as soon as accepted.
   * @default {a quarter of maxConnections}
   */
  maxConnectionsPerPeer?: number;
  /**
   * Seconds a request's head (and body) may take to arrive, from the
   * connection's start or the request's first byte; past it the
   * connection is closed unanswered.
   * @default {10}
   */
  headTimeout?: number;
  /**
   * Seconds a kept-alive connection may wait for its next request, and a
   * write for the peer to take bytes; past it the connection is closed.
   * @default {30}
   */
  idleTimeout?: number;
  /**
   * Requests that read the store (`/api/series`, `/api/keys`) answered at
   * once; more wait in line.
   * @default {2}
   */
  maxReads?: number;
  /**
   * Requests that may wait in line for a place to read the store; more
   * get a 429 at once. Each waits for the reads ahead of it: 16 reductions
   * of 10M points are about 2 s of waiting.
   * @default {16}
   */
  maxQueuedReads?: number;
}

/** The running HTTP side. */
export interface HttpServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** The page's URL, `http://HOST:PORT/`. */
  readonly url: string;
  /** Ends live streams and stops serving; safe to call more than once. */
  close(): Promise<void>;
}

/** What the HTTP side serves from. */
export interface HttpSources {
  /** The server's store. */
  readonly storage: Storage;
  /** The server's counters. */
  readonly counters: ServerCounters;
  /** The allow-list, shared with the TCP port. */
  readonly access: AccessGuard;
  /** The data directory, with `dataDir`. */
  readonly data?: DataDirectory;
  /** Receives diagnostics. */
  readonly log: (message: string) => void;
  /** How long closing waits for requests being answered (ms). */
  readonly shutdownTimeoutMs: number;
}

/** Waits `ms` milliseconds, or less if `promise` settles first. */
async function waitAtMost(
  ms: number,
  promise: Promise<unknown>,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise,
    new Promise((resolve) => timer = setTimeout(resolve, Math.max(0, ms))),
  ]);
  clearTimeout(timer);
}

/** Answer while closing or past `maxRequests`: try again shortly. */
function unavailable(message: string): Answer {
  return errorAnswer(503, message, { "retry-after": "1", connection: "close" });
}

/** The address part of `host:port`. */
function addressOf(peer: string): string {
  return peer.slice(0, peer.lastIndexOf(":"));
}

/** The options' numbers, checked, with their defaults. */
function checkHttpOptions(
  options: HttpOptions,
): Required<Omit<HttpOptions, "hostname" | "port">> {
  const whole = (name: string, value: number, min = 1): number =>
    checkInteger(name, value, min, 2 ** 31 - 1);
  const seconds = (name: string, value: number): number =>
    checkNumber(name, value, 0.001, { max: 2_000_000, unit: "seconds" });
  const maxConnections = whole(
    "http.maxConnections",
    options.maxConnections ?? 256,
  );
  return {
    maxLivePages: whole("maxLivePages", options.maxLivePages ?? 64),
    maxRequests: whole("maxRequests", options.maxRequests ?? 256),
    maxConnections,
    maxConnectionsPerPeer: whole(
      "http.maxConnectionsPerPeer",
      options.maxConnectionsPerPeer ?? Math.max(1, maxConnections >>> 2),
    ),
    headTimeout: seconds("http.headTimeout", options.headTimeout ?? 10),
    idleTimeout: seconds("http.idleTimeout", options.idleTimeout ?? 30),
    maxReads: whole("http.maxReads", options.maxReads ?? 2),
    maxQueuedReads: whole(
      "http.maxQueuedReads",
      options.maxQueuedReads ?? 16,
      0,
    ),
  };
}

/**
 * Starts serving HTTP; listening has begun when it returns.
 *
 * @throws {RangeError} for an invalid option.
 * @throws {Error} when the address is in use or cannot be bound.
 */
export function serveHttp(
  options: HttpOptions,
  sources: HttpSources,
): HttpServer {
  const limits = checkHttpOptions(options);
  const { counters, access, log } = sources;
  const events = new LiveEvents(counters, limits.maxLivePages);
  const reads = new ReadQueue(limits.maxReads, limits.maxQueuedReads);
  const listener = listenFor(
    "http",
    options.hostname ?? "127.0.0.1",
    options.port,
    (address) => Deno.listen(address),
  );
  const slots = new ConnectionSlots({
    max: limits.maxConnections,
    maxPerPeer: limits.maxConnectionsPerPeer,
    what: "HTTP connections",
    names: {
      max_connections: "http.maxConnections",
      max_connections_per_peer: "http.maxConnectionsPerPeer",
    },
    refused: counters.httpConnectionsRefused,
    log,
  });
  const connections = new Map<HttpConnection, Promise<void>>();
  const badRequests = new LogThrottle();
  const failures = new LogThrottle();
  let closing = false;
  let stopped = false;
  /** Settles when the last request being answered is done. */
  let idle = Promise.withResolvers<void>();
  idle.resolve();
  const hooks: ConnectionHooks = {
    enter: () => {
      if (closing) return unavailable("the server is shutting down");
      if (counters.httpRequestsOpen >= limits.maxRequests) {
        counters.httpRequestsRefused++;
        return unavailable(
          `${limits.maxRequests} requests are being answered; retry shortly`,
        );
      }
      if (counters.httpRequestsOpen++ === 0) idle = Promise.withResolvers();
      return undefined;
    },
    leave: () => {
      if (--counters.httpRequestsOpen === 0) idle.resolve();
    },
    answer: createHandler({ ...sources, events, reads }),
    closing: () => closing,
    badRequest: (peer, error) => {
      counters.httpBadRequests++;
      const address = addressOf(peer);
      if (badRequests.shouldLog(address, Date.now())) {
        log(
          `answered a bad HTTP request from ${address}: ${error.message}; this address is logged at most once a minute`,
        );
      }
    },
    timedOut: (kind: HttpTimeoutKind) => counters.httpTimeouts[kind]++,
    failed: (peer, error) => {
      if (failures.shouldLog(addressOf(peer), Date.now())) {
        log(
          `error: closing HTTP connection from ${peer}: ${error}; this address is logged at most once a minute`,
        );
      }
    },
  };
  const timeouts = {
    headMs: limits.headTimeout * 1000,
    idleMs: limits.idleTimeout * 1000,
  };
  const accepting = acceptLoop(listener, (conn) => {
    if (!access.admit(conn)) return;
    const host = (conn.remoteAddr as Deno.NetAddr).hostname;
    if (!slots.take(host)) {
      conn.close();
      return;
    }
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // The peer already left; the first read will say so.
    }
    const connection = new HttpConnection(conn, hooks, timeouts);
    counters.httpConnectionsOpen++;
    connections.set(
      connection,
      connection.run().finally(() => {
        counters.httpConnectionsOpen--;
        connections.delete(connection);
        slots.release(host);
      }),
    );
  }, { what: "an HTTP connection", log, stopped: () => stopped });
  const { hostname, port } = listener.addr as Deno.NetAddr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  let closed: Promise<void> | undefined;
  return {
    hostname,
    port,
    url: `http://${host}:${port}/`,
    close: () =>
      closed ??= (async () => {
        closing = true;
        events.close();
        // Peers between requests or mid-head get nothing more.
        for (const connection of connections.keys()) {
          if (connection.reading) connection.close();
        }
        await waitAtMost(sources.shutdownTimeoutMs, idle.promise);
        stopped = true;
        listener.close();
        await accepting;
        for (const connection of connections.keys()) connection.close();
        await Promise.all(connections.values());
      })(),
  };
}
