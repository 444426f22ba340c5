/**
 * The HTTP handler: the page's files, the JSON API, live events and
 * `/metrics`. Only GET and HEAD; every other path or method gets a JSON
 * error. Files come from memory ({@link ASSETS}), never from disk. The
 * requests that read the store (`/api/series`, `/api/keys`) wait for a
 * place in a {@link ReadQueue}, and get a 429 when its line is full.
 *
 * @module
 */

import type { ServerCounters } from "../counters.ts";
import { LogThrottle } from "../log_throttle.ts";
import { RetentionStorage } from "../storage/retention.ts";
import type { Storage } from "../storage/storage.ts";
import { keysAnswer, seriesAnswer } from "./api.ts";
import { ASSETS } from "./assets.ts";
import type { HttpRequest } from "./connection.ts";
import type { LiveEvents } from "./events.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
import { BadRequest, parseKeysQuery, parseSeriesQuery } from "./query.ts";
import type { ReadQueue } from "./reads.ts";
import { type Answer, answerOf, errorAnswer, JSON_TYPE } from "./wire.ts";
import {
  GRAPHITE_READS,
  GRAPHITE_VERSION,
  graphiteParams,
} from "../graphite/routes.ts";
import { TargetError } from "../graphite/target.ts";

/** What the handler reads from. */
export interface RouteContext {
  /** The server's store. */
  readonly storage: Storage;
  /** The server's counters. */
  readonly counters: ServerCounters;
  /** Live event streams. */
  readonly events: LiveEvents;
  /** The line of requests that read the store. */
  readonly reads: ReadQueue;
  /** The data directory, for its size and damage on `/metrics`. */
  readonly data?: DataDirectory;
  /** Receives diagnostics (failures, at most once a minute per path). */
  readonly log: (message: string) => void;
}

/** A data directory as `/metrics` shows it. */
export interface DataDirectory {
  /** Its path. */
  readonly dir: string;
  /** Chunks (and stretches of WAL files) found damaged at start-up. */
  readonly damagedChunks: number;
  /** The oldest timestamp kept since its disk budget deleted a day, if it did. */
  readonly oldestKept: number | undefined;
  /** UTC days whose segments were merged into one since start. */
  readonly compactions: number;
  /** UTC days due for a compaction now. */
  readonly compactionsDue: number;
}

/**
 * The oldest timestamp kept: the later of a retention's cut-off and the
 * end of the last day a disk budget deleted; `undefined` with neither.
 */
function oldestKept(
  storage: Storage,
  data: DataDirectory | undefined,
): number | undefined {
  const byAge = storage instanceof RetentionStorage
    ? storage.cutoff()
    : undefined;
  const bySize = data?.oldestKept;
  if (byAge === undefined || bySize === undefined) return byAge ?? bySize;
  return Math.max(byAge, bySize);
}

/**
 * Bytes of the files in `dir` and its subdirectories (symbolic links not
 * followed); files deleted meanwhile count nothing.
 */
async function directoryBytes(dir: string): Promise<number> {
  let bytes = 0;
  const pending = [dir];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    for await (const entry of Deno.readDir(path)) {
      const inside = `${path}/${entry.name}`;
      if (entry.isDirectory) pending.push(inside);
      else if (entry.isFile) {
        bytes += await Deno.lstat(inside).then((info) => info.size, () => 0);
      }
    }
  }
  return bytes;
}

/** Builds the request handler; the answers it gives never reject. */
export function createHandler(
  context: RouteContext,
): (request: HttpRequest) => Promise<Answer> {
  const { storage, counters, events, reads } = context;
  const failures = new LogThrottle();
  /** Runs `read` in the line of store reads: a 429 when it is full. */
  const queued = async (read: () => Promise<string>): Promise<Answer> => {
    const text = reads.run(read);
    if (text === undefined) {
      counters.httpReadsRefused++;
      return errorAnswer(
        429,
        `${reads.active} reads are running and ${reads.queued} waiting; retry shortly`,
        { "retry-after": "1" },
      );
    }
    return answerOf(200, await text, JSON_TYPE);
  };
  /** Graphite's read API (docs/graphite.md), params from GET or a POST form. */
  const graphite = (path: string, params: URLSearchParams): Promise<Answer> =>
    queued(() => GRAPHITE_READS.get(path)!(storage, params));
  const routes: Record<string, (url: URL) => Promise<Answer> | Answer> = {
    "/render": (url) => graphite("/render", url.searchParams),
    "/metrics/find": (url) => graphite("/metrics/find", url.searchParams),
    "/version": () =>
      answerOf(200, `${GRAPHITE_VERSION}\n`, "text/plain; charset=utf-8"),
    "/api/keys": (url) => {
      const query = parseKeysQuery(url.searchParams);
      return queued(() =>
        keysAnswer(storage, query, Math.floor(Date.now() / 1000))
      );
    },
    "/api/series": (url) => {
      const query = parseSeriesQuery(url.searchParams);
      return queued(async () =>
        JSON.stringify(await seriesAnswer(storage, query))
      );
    },
    "/api/events": () => {
      const stream = events.open();
      return stream === undefined
        ? errorAnswer(503, "too many live pages open; close one and retry")
        : answerOf(200, stream, "text/event-stream; charset=utf-8");
    },
    "/metrics": async () =>
      answerOf(
        200,
        formatPrometheus(counters, {
          size: storage.size?.(),
          dataBytes: context.data && await directoryBytes(context.data.dir),
          damagedChunks: context.data?.damagedChunks,
          compactions: context.data?.compactions,
          compactionsDue: context.data?.compactionsDue,
          putsPerSecond: counters.putsPerSecond(),
          retentionCutoff: oldestKept(storage, context.data),
        }),
        PROMETHEUS_CONTENT_TYPE,
      ),
  };
  /** Runs a route: a bad request is a 400, any other failure a 500, logged. */
  const failSafe = async (
    url: URL,
    route: () => Promise<Answer> | Answer,
  ): Promise<Answer> => {
    try {
      return await route();
    } catch (cause) {
      if (cause instanceof BadRequest || cause instanceof TargetError) {
        return errorAnswer(400, cause.message);
      }
      if (failures.shouldLog(url.pathname, Date.now())) {
        context.log(
          `error: HTTP ${url.pathname} failed: ${cause}; logged at most once a minute per path`,
        );
      }
      return errorAnswer(500, `the store could not answer: ${cause}`);
    }
  };
  return async ({ method, url, body }) => {
    if (method === "POST" && GRAPHITE_READS.has(url.pathname)) {
      const params = graphiteParams(url, body);
      return await failSafe(url, () => graphite(url.pathname, params));
    }
    if (method !== "GET" && method !== "HEAD") {
      return errorAnswer(
        405,
        "only GET and HEAD are served (and POST at /render, /metrics/find)",
        { allow: "GET, HEAD" },
      );
    }
    const asset = ASSETS.get(url.pathname);
    if (asset !== undefined) return answerOf(200, asset.body, asset.type);
    const route = Object.hasOwn(routes, url.pathname)
      ? routes[url.pathname]
      : undefined;
    if (route === undefined) {
      return errorAnswer(404, `nothing at ${url.pathname}`);
    }
    return await failSafe(url, () => route(url));
  };
}
