/**
 * Query parameters of the JSON API, checked: every bad one is a
 * {@link BadRequest} naming it and saying what fits. Pure: no I/O.
 *
 * @module
 */

import { isValidKey, parseIntegerText } from "../../protocol/grammar.ts";

/** A query parameter that does not fit: answered 400 with its message. */
export class BadRequest extends Error {
  /** @param message What is wrong and what fits. */
  constructor(message: string) {
    super(message);
    this.name = "BadRequest";
  }
}

/** Most buckets a reduced series may ask for. */
export const MAX_POINTS = 10_000;
/** Most keys one `/api/keys` answer lists. */
export const MAX_KEYS = 10_000;
/** Most sparkline buckets per key in `/api/keys`. */
export const MAX_SPARK_POINTS = 100;
/** Longest `match` filter, in characters. */
export const MAX_MATCH = 256;

/** `from` and `to`: an inclusive range of Unix seconds. */
export interface TimeRange {
  /** First second, inclusive. */
  readonly from: number;
  /** Last second, inclusive. */
  readonly to: number;
}

/** `/api/series?key=K&from=T&to=T&points=N`. */
export interface SeriesQuery extends TimeRange {
  /** The key to read. */
  readonly key: string;
  /** Buckets to reduce to, at most. */
  readonly points: number;
}

/** `/api/keys?match=S&limit=N&from=T&to=T&points=N`. */
export interface KeysQuery extends TimeRange {
  /** Only keys containing this text. */
  readonly match: string;
  /** Keys listed at most. */
  readonly limit: number;
  /** Sparkline buckets per key. */
  readonly points: number;
}

function integer(
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = params.get(name);
  if (text === null) return fallback;
  const value = parseIntegerText(text);
  if (value === undefined || value < min || value > max) {
    throw new BadRequest(
      `${name} must be an integer from ${min} to ${max}, got "${
        text.slice(0, 40)
      }"`,
    );
  }
  return value;
}

function timeRange(params: URLSearchParams): TimeRange {
  const min = Number.MIN_SAFE_INTEGER;
  const max = Number.MAX_SAFE_INTEGER;
  const from = integer(params, "from", min, min, max);
  const to = integer(params, "to", max, min, max);
  if (from > to) {
    throw new BadRequest(`from (${from}) must not be after to (${to})`);
  }
  return { from, to };
}

/** Parses the parameters of `/api/series`. */
export function parseSeriesQuery(params: URLSearchParams): SeriesQuery {
  const key = params.get("key");
  if (key === null) throw new BadRequest("key is required");
  if (key === "*" || !isValidKey(key)) {
    throw new BadRequest(
      "key must be one metric name: no whitespace, control characters or *",
    );
  }
  return {
    key,
    ...timeRange(params),
    points: integer(params, "points", 1000, 1, MAX_POINTS),
  };
}

/** Parses the parameters of `/api/keys`. */
export function parseKeysQuery(params: URLSearchParams): KeysQuery {
  const match = params.get("match") ?? "";
  if (match.length > MAX_MATCH) {
    throw new BadRequest(`match must be at most ${MAX_MATCH} characters`);
  }
  return {
    match,
    ...timeRange(params),
    limit: integer(params, "limit", 1000, 1, MAX_KEYS),
    points: integer(params, "points", 40, 1, MAX_SPARK_POINTS),
  };
}
