/**
 * The HTTP side of the metrics server: the page, the JSON API and
 * `/metrics`, from the same process and store as the TCP protocol.
 *
 * @module
 */

import type { ServerCounters } from "../counters.ts";
import type { Storage } from "../storage/storage.ts";
import { LiveEvents } from "./events.ts";
import { createHandler } from "./routes.ts";

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
}

/**
 * Starts serving HTTP; listening has begun when it returns.
 *
 * @throws {Error} when the address is in use or cannot be bound.
 */
export function serveHttp(
  options: HttpOptions,
  sources: HttpSources,
): HttpServer {
  const events = new LiveEvents(sources.counters, options.maxLivePages ?? 64);
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    onListen: () => {},
    onError: (cause) => {
      sources.log(`error: HTTP request failed: ${cause}`);
      return new Response("internal error", { status: 500 });
    },
  }, createHandler({ ...sources, events }));
  const { hostname, port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  let closing: Promise<void> | undefined;
  return {
    hostname,
    port,
    url: `http://${host}:${port}/`,
    close: () =>
      closing ??= (async () => {
        events.close();
        await server.shutdown();
      })(),
  };
}
