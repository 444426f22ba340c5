/**
 * The Graphite read API on the HTTP port: which paths it answers and what
 * each reads, parameters taken from the query string and, for POST, from
 * a form body, as graphite-web merges them. Grafana's Graphite data
 * source needs no more than these.
 *
 * @module
 */

import type { Storage } from "../storage/storage.ts";
import { findAnswer, renderAnswer } from "./render.ts";

/** The version answered at `/version`: the graphite-web this API follows. */
export const GRAPHITE_VERSION = "1.1.8";

const decoder = new TextDecoder();

/** The Graphite API's answers that read the store, by path. */
export const GRAPHITE_READS: ReadonlyMap<
  string,
  (storage: Storage, params: URLSearchParams) => Promise<string>
> = new Map([
  [
    "/render",
    (storage: Storage, params: URLSearchParams) =>
      renderAnswer(storage, params, Math.floor(Date.now() / 1000)),
  ],
  ["/metrics/find", findAnswer],
]);

/**
 * The parameters of a Graphite request: the query string's, then a
 * form-encoded body's (both may repeat `target`).
 */
export function graphiteParams(url: URL, body: Uint8Array): URLSearchParams {
  const params = new URLSearchParams(url.searchParams);
  if (body.length > 0) {
    for (const [name, value] of new URLSearchParams(decoder.decode(body))) {
      params.append(name, value);
    }
  }
  return params;
}
