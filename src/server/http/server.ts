/**
 * The HTTP side of the metrics server: the page, the JSON API and
 * `/metrics`, from the same process and store as the TCP protocol.
 *
 * Bounded: at most `maxRequests` requests are answered at once (a request
 * counts until its answer, live streams included, was sent); more get a
 * 503 at once. Closing answers new requests 503, ends live streams, waits
 * for the requests being answered up to the shutdown timeout, then closes
 * every HTTP connection, so a peer that stalls cannot hold shutdown.
 *
 * @module
 */

import { checkInteger } from "../../internal/options.ts";
import type { ServerCounters } from "../counters.ts";
import type { Storage } from "../storage/storage.ts";
import { LiveEvents } from "./events.ts";
import { createHandler, errorResponse } from "./routes.ts";

/** Where the HTTP side listens. */
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
  /** Path of the append-only log, when there is one. */
  readonly logPath?: string;
  /** Receives diagnostics. */
  readonly log: (message: string) => void;
  /** How long closing waits for requests being answered (ms). */
  readonly shutdownTimeoutMs: number;
}

/** How long closing lets handed-over answers reach the wire (ms). */
const FLUSH_MS = 100;

/** Waits `ms` milliseconds, or less if `promise` settles first. */
async function waitAtMost(
  ms: number,
  promise?: Promise<unknown>,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise,
    new Promise((resolve) => timer = setTimeout(resolve, Math.max(0, ms))),
  ].filter((p) => p !== undefined));
  clearTimeout(timer);
}

/** Answer while closing or past `maxRequests`: try again shortly. */
function unavailable(message: string): Response {
  return errorResponse(503, message, {
    "retry-after": "1",
    connection: "close",
  });
}

/**
 * `response` with its body as a stream: Deno then counts the request
 * complete once the whole body was written, not when it was handed over,
 * so closing does not cut an answer being sent. The length is kept.
 */
function streamed(response: Response): Response {
  return response.body === null ? response : new Response(response.body, {
    status: response.status,
    headers: response.headers,
  });
}

/**
 * Starts serving HTTP; listening has begun when it returns.
 *
 * @throws {RangeError} for an invalid `maxRequests` or `maxLivePages`.
 * @throws {Error} when the address is in use or cannot be bound.
 */
export function serveHttp(
  options: HttpOptions,
  sources: HttpSources,
): HttpServer {
  const maxRequests = checkInteger("maxRequests", options.maxRequests ?? 256);
  const events = new LiveEvents(
    sources.counters,
    checkInteger("maxLivePages", options.maxLivePages ?? 64),
  );
  const { counters } = sources;
  const handler = createHandler({ ...sources, events });
  let closing = false;
  /** Settles when the last request being answered is done. */
  let idle = Promise.withResolvers<void>();
  idle.resolve();
  // Aborting closes every connection at once; `shutdown()` would wait for
  // each to finish, and cannot be aborted once started.
  const abort = new AbortController();
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    signal: abort.signal,
    onListen: () => {},
    onError: (cause) => {
      sources.log(`error: HTTP request failed: ${cause}`);
      return new Response("internal error", { status: 500 });
    },
  }, (request, info) => {
    if (closing) return unavailable("the server is shutting down");
    if (counters.httpRequestsOpen >= maxRequests) {
      counters.httpRequestsRefused++;
      return unavailable(
        `${maxRequests} requests are being answered; retry shortly`,
      );
    }
    if (counters.httpRequestsOpen++ === 0) idle = Promise.withResolvers();
    const done = idle;
    // Settles once the answer was sent, or failed to be.
    info.completed.catch(() => {}).finally(() => {
      if (--counters.httpRequestsOpen === 0) done.resolve();
    });
    return handler(request).then(streamed);
  });
  const { hostname, port } = server.addr;
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
        const deadline = Date.now() + sources.shutdownTimeoutMs;
        await waitAtMost(sources.shutdownTimeoutMs, idle.promise);
        // "Complete" means the last bytes were handed to the connection,
        // not yet written: give them a moment before closing it.
        await waitAtMost(Math.min(FLUSH_MS, deadline - Date.now()));
        abort.abort();
        await server.finished;
      })(),
  };
}
