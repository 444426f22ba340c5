/**
 * The HTTP handler: the page's files, the JSON API, live events and
 * `/metrics`. Only GET and HEAD; every other path or method gets a JSON
 * error. Files come from memory ({@link ASSETS}), never from disk.
 *
 * @module
 */

import type { ServerCounters } from "../counters.ts";
import type { Storage } from "../storage/storage.ts";
import { keysAnswer, seriesAnswer } from "./api.ts";
import { ASSETS } from "./assets.ts";
import type { LiveEvents } from "./events.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
import { BadRequest, parseKeysQuery, parseSeriesQuery } from "./query.ts";

/** Longest request URL accepted, in characters. */
export const MAX_URL = 8192;

/** What the handler reads from. */
export interface RouteContext {
  /** The server's store. */
  readonly storage: Storage;
  /** The server's counters. */
  readonly counters: ServerCounters;
  /** Live event streams. */
  readonly events: LiveEvents;
  /** Path of the append-only log, for its size on `/metrics`. */
  readonly logPath?: string;
  /** Receives diagnostics. */
  readonly log: (message: string) => void;
}

/** Headers on every answer: nothing is cached, sniffed or framed. */
const COMMON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
};

function respond(
  status: number,
  body: BodyInit | null,
  type: string,
  extra: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...COMMON_HEADERS, "content-type": type, ...extra },
  });
}

function json(status: number, value: unknown): Response {
  return respond(
    status,
    JSON.stringify(value),
    "application/json; charset=utf-8",
  );
}

/** A JSON error answer: `{"error": message}` with `status`. */
export function errorResponse(
  status: number,
  message: string,
  extra: Record<string, string> = {},
): Response {
  return respond(
    status,
    JSON.stringify({ error: message }),
    "application/json; charset=utf-8",
    extra,
  );
}

async function logBytes(path: string | undefined): Promise<number | undefined> {
  if (path === undefined) return undefined;
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Builds the request handler for `Deno.serve`. */
export function createHandler(
  context: RouteContext,
): (request: Request) => Promise<Response> {
  const { storage, counters, events } = context;
  const routes: Record<string, (url: URL) => Promise<Response> | Response> = {
    "/api/keys": async (url) =>
      json(
        200,
        await keysAnswer(
          storage,
          parseKeysQuery(url.searchParams),
          Math.floor(Date.now() / 1000),
        ),
      ),
    "/api/series": async (url) =>
      json(
        200,
        await seriesAnswer(storage, parseSeriesQuery(url.searchParams)),
      ),
    "/api/events": () => {
      const stream = events.open();
      return stream === undefined
        ? errorResponse(503, "too many live pages open; close one and retry")
        : respond(200, stream, "text/event-stream; charset=utf-8");
    },
    "/metrics": async () =>
      respond(
        200,
        formatPrometheus(counters, {
          size: storage.size?.(),
          logBytes: await logBytes(context.logPath),
          putsPerSecond: counters.putsPerSecond(),
        }),
        PROMETHEUS_CONTENT_TYPE,
      ),
  };
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return errorResponse(405, "only GET and HEAD are served", {
        allow: "GET, HEAD",
      });
    }
    if (request.url.length > MAX_URL) {
      return errorResponse(414, `the URL is longer than ${MAX_URL} characters`);
    }
    const url = new URL(request.url);
    const asset = ASSETS.get(url.pathname);
    if (asset !== undefined) return respond(200, asset.body, asset.type);
    const route = Object.hasOwn(routes, url.pathname)
      ? routes[url.pathname]
      : undefined;
    if (route === undefined) {
      return errorResponse(404, `nothing at ${url.pathname}`);
    }
    try {
      return await route(url);
    } catch (cause) {
      if (cause instanceof BadRequest) return errorResponse(400, cause.message);
      context.log(`error: HTTP ${url.pathname} failed: ${cause}`);
      return errorResponse(500, `the store could not answer: ${cause}`);
    }
  };
}
