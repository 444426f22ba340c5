/**
 * The pure parts of the VictoriaMetrics backend around its HTTP API,
 * without I/O: URL building for single-node and cluster installations, the
 * export query, the backend's flags, and which points it can store.
 *
 * @module
 */

import type { StoredPoint } from "../storage.ts";
import { MAX_FUTURE_MS } from "./order.ts";
import { parseDuration } from "../../../internal/duration.ts";

/** VictoriaMetrics reads a bare `-retentionPeriod` number as months of 31 days. */
export const MONTH_MS = 31 * 86_400_000;

/** The HTTP endpoints the backend talks to. */
export interface VictoriaMetricsUrls {
  /** `"single"` for one VictoriaMetrics process, `"cluster"` for vminsert and vmselect. */
  readonly kind: "single" | "cluster";
  /** Where puts go: `.../api/v1/import` (JSON lines). */
  readonly importUrl: string;
  /** Where gets come from: `.../api/v1/export/native`. */
  readonly exportUrl: string;
  /** Where `get *` lists keys: `.../api/v1/label/__name__/values`. */
  readonly namesUrl: string;
  /** The `/metrics` pages whose `flag{...}` lines are checked at start. */
  readonly metricsUrls: readonly string[];
  /** Single node only: makes recent points searchable (meant for tests). */
  readonly forceFlushUrl?: string;
}

const INSERT_PATH = /^(.*)\/insert\/(\d+(?::\d+)?)\/prometheus$/;
const SELECT_PATH = /^(.*)\/select\/(\d+(?::\d+)?)\/prometheus$/;

/**
 * Builds the endpoints from base URLs: one single-node URL
 * (`http://127.0.0.1:8428`, optionally with a path prefix), or a cluster's
 * vminsert and vmselect URLs in either order
 * (`http://vminsert:8480/insert/0/prometheus`,
 * `http://vmselect:8481/select/0/prometheus`; the tenant may be
 * `accountID:projectID`).
 *
 * @throws {RangeError} for a URL that is not http(s), or a cluster URL
 * without its other half.
 */
export function victoriaMetricsUrls(
  urls: readonly string[],
): VictoriaMetricsUrls {
  const parsed = urls.map(parseBase);
  if (parsed.length === 1 && parsed[0].role === "single") {
    const base = parsed[0].base;
    return {
      kind: "single",
      importUrl: `${base}/api/v1/import`,
      exportUrl: `${base}/api/v1/export/native`,
      namesUrl: `${base}/api/v1/label/__name__/values`,
      metricsUrls: [`${base}/metrics`],
      forceFlushUrl: `${base}/internal/force_flush`,
    };
  }
  const insert = parsed.filter((url) => url.role === "insert");
  const select = parsed.filter((url) => url.role === "select");
  if (
    parsed.length !== 2 || insert.length !== 1 || select.length !== 1
  ) {
    throw new RangeError(
      `expected one single-node URL (http://127.0.0.1:8428) or a vminsert and a vmselect URL (http://vminsert:8480/insert/0/prometheus,http://vmselect:8481/select/0/prometheus), got ${
        urls.join(",")
      }`,
    );
  }
  return {
    kind: "cluster",
    importUrl: `${insert[0].base}/api/v1/import`,
    exportUrl: `${select[0].base}/api/v1/export/native`,
    namesUrl: `${select[0].base}/api/v1/label/__name__/values`,
    metricsUrls: [`${insert[0].origin}/metrics`, `${select[0].origin}/metrics`],
  };
}

interface Base {
  readonly role: "single" | "insert" | "select";
  /** The URL without trailing slash, query or fragment. */
  readonly base: string;
  /** Scheme, host and port, plus any path prefix before `/insert`. */
  readonly origin: string;
}

function parseBase(text: string): Base {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`invalid VictoriaMetrics URL "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(
      `invalid VictoriaMetrics URL "${text}": use http:// or https://`,
    );
  }
  const path = url.pathname.replace(/\/+$/, "");
  const base = `${url.origin}${path}`;
  const insert = path.match(INSERT_PATH);
  if (insert) return { role: "insert", base, origin: url.origin + insert[1] };
  const select = path.match(SELECT_PATH);
  if (select) return { role: "select", base, origin: url.origin + select[1] };
  return { role: "single", base, origin: base };
}

/**
 * The `match[]` selector of a key's series, or of every series for `*`.
 * The key is quoted as a JSON string, which MetricsQL reads back exactly.
 *
 * `fresh` is a label name no series has, different for every export:
 * `fresh=""` matches every series, and makes the selector one
 * VictoriaMetrics has never seen. VictoriaMetrics (1.79) caches the series
 * a selector matched until its index calls back after a flush, which it
 * does at most every 10 s: a selector asked again within that time
 * misses series created since, even after `/internal/force_flush`.
 */
export function exportSelector(key: string, fresh: string): string {
  return selector(key === "*" ? '=~".+"' : `=${JSON.stringify(key)}`, fresh);
}

/** `{__name__<name>,<fresh>=""}`, `fresh` checked. */
function selector(name: string, fresh: string): string {
  if (!FRESH_LABEL.test(fresh)) {
    throw new RangeError(`invalid label name "${fresh}"`);
  }
  return `{__name__${name},${fresh}=""}`;
}

/** A label name MetricsQL reads without quotes. */
const FRESH_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Names per selector of {@link namesForm}: VictoriaMetrics (1.79) looks an
 * alternation of up to 100 literal names up in its index, name by name,
 * and matches a longer one against every name it holds.
 */
export const NAMES_PER_SELECTOR = 100;

/**
 * The form (`application/x-www-form-urlencoded`) of an export of exactly
 * the series named `names` from `startMs` to `endMs` (as in
 * {@link exportUrl}): one `match[]` per {@link NAMES_PER_SELECTOR} names,
 * each an alternation of the names with every character a regular
 * expression could read otherwise escaped (VictoriaMetrics anchors it at
 * both ends), plus the label `fresh` (see {@link exportSelector}).
 */
export function namesForm(
  names: readonly string[],
  startMs: number,
  endMs: number,
  fresh: string,
): string {
  const form = new URLSearchParams();
  for (let at = 0; at < names.length; at += NAMES_PER_SELECTOR) {
    const alternation = names.slice(at, at + NAMES_PER_SELECTOR)
      .map((name) => name.replace(REGEX_SYNTAX, "\\$&")).join("|");
    form.append("match[]", selector(`=~${JSON.stringify(alternation)}`, fresh));
  }
  form.append("start", secondsText(startMs));
  form.append("end", secondsText(endMs));
  return form.toString();
}

/** ASCII a regular expression may read as syntax; RE2 takes each escaped. */
const REGEX_SYNTAX = /[^A-Za-z0-9_\u0080-\uffff]/g;

/**
 * The export URL's query for `key` (or `*`) from `startMs` to `endMs`
 * (inclusive, milliseconds since the epoch, not negative), sent as
 * seconds with exactly three decimals so no bound is rounded; `fresh` as
 * in {@link exportSelector}. With `*` and the `namesUrl` as base: the
 * names of the series with points in that range.
 */
export function exportUrl(
  exportBase: string,
  key: string,
  startMs: number,
  endMs: number,
  fresh: string,
): string {
  const query = new URLSearchParams({
    "match[]": exportSelector(key, fresh),
    start: secondsText(startMs),
    end: secondsText(endMs),
  });
  return `${exportBase}?${query}`;
}

/** Whole milliseconds as seconds: `1500` → `1.500`, `99000` → `99`. */
function secondsText(ms: number): string {
  const fraction = ms % 1000;
  const seconds = (ms - fraction) / 1000;
  return fraction === 0
    ? `${seconds}`
    : `${seconds}.${String(fraction).padStart(3, "0")}`;
}

/** Reads the `flag{name="...", value="..."}` lines of a `/metrics` page. */
export function parseFlags(metrics: string): Map<string, string> {
  const flags = new Map<string, string>();
  const pattern = /^flag\{name="((?:[^"\\]|\\.)*)", value="((?:[^"\\]|\\.)*)"/;
  for (const line of metrics.split("\n")) {
    const match = line.match(pattern);
    if (match) flags.set(unescape(match[1]), unescape(match[2]));
  }
  return flags;
}

function unescape(text: string): string {
  return text.replace(
    /\\(.)/g,
    (_, char: string) => char === "n" ? "\n" : char,
  );
}

/** What the backend's flags allow, from {@link checkFlags}. */
export interface BackendLimits {
  /** `-retentionPeriod` in ms, when known. */
  readonly retentionMs?: number;
  /** `-maxLabelValueLen`: longest key in UTF-8 bytes, when known. */
  readonly maxKeyBytes?: number;
  /**
   * `-search.maxTagValues`: most names one listing answers (it cuts the
   * rest silently), when known.
   */
  readonly maxListedNames?: number;
}

/** `-search.maxTagValues` unless set otherwise. */
export const DEFAULT_MAX_LISTED_NAMES = 100_000;

/**
 * Checks one `/metrics` page's flags: `-dedup.minScrapeInterval` must be
 * exactly 1s (last write wins per second; a longer one would merge
 * different seconds, none would keep every rewrite). Returns the limits it
 * read, or throws an `Error` that says what to change.
 */
export function checkFlags(
  url: string,
  flags: ReadonlyMap<string, string>,
): BackendLimits {
  const dedup = flags.get("dedup.minScrapeInterval");
  if (dedup === undefined) {
    throw new Error(
      `${url} lists no flag "dedup.minScrapeInterval", so last write wins per (key, second) cannot be checked; run VictoriaMetrics with -dedup.minScrapeInterval=1s`,
    );
  }
  if (parseDuration(dedup, NaN) !== 1000) {
    throw new Error(
      `VictoriaMetrics at ${url} runs with -dedup.minScrapeInterval=${dedup}; it must be 1s so that each (key, second) keeps one value and different seconds stay apart`,
    );
  }
  const retention = flags.get("retentionPeriod");
  const maxLabel = flags.get("maxLabelValueLen");
  const maxListed = flags.get("search.maxTagValues");
  return {
    maxListedNames: maxListed === undefined ? undefined : Number(maxListed),
    retentionMs: retention === undefined
      ? undefined
      : parseDuration(retention, MONTH_MS),
    maxKeyBytes: maxLabel === undefined ? undefined : Number(maxLabel),
  };
}

/** Points this close to a limit are refused too, for clock skew. */
export const LIMIT_MARGIN_MS = 3_600_000;

/**
 * Why VictoriaMetrics would drop `point` (it answers 2xx and drops it
 * silently), or `undefined` when it stores it: a timestamp before 1, one
 * older than the retention, one more than two days ahead, or a key over
 * `-maxLabelValueLen`.
 */
export function unstorable(
  point: StoredPoint,
  nowMs: number,
  limits: BackendLimits,
): string | undefined {
  const ms = point.timestamp * 1000;
  // Second 0 would need negative milliseconds for its rewrite slots.
  if (point.timestamp < 1) {
    return `timestamp ${point.timestamp} is before 1970-01-01T00:00:01Z, which VictoriaMetrics cannot store`;
  }
  if (
    limits.retentionMs !== undefined &&
    ms < nowMs - limits.retentionMs + LIMIT_MARGIN_MS
  ) {
    return `timestamp ${point.timestamp} is outside VictoriaMetrics' retention period`;
  }
  if (ms > nowMs + MAX_FUTURE_MS - LIMIT_MARGIN_MS) {
    return `timestamp ${point.timestamp} is more than two days ahead, which VictoriaMetrics drops`;
  }
  if (
    limits.maxKeyBytes !== undefined &&
    point.key.length * 3 > limits.maxKeyBytes &&
    new TextEncoder().encode(point.key).length > limits.maxKeyBytes
  ) {
    return `key of ${point.key.length} characters is longer than VictoriaMetrics' -maxLabelValueLen (${limits.maxKeyBytes} bytes)`;
  }
  return undefined;
}
