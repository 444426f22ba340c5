/**
 * The read side of the VictoriaMetrics store: `/api/v1/export` (only the
 * key and the time range asked for, read uncompressed and parsed as it
 * arrives) merged with this front-end's recent writes.
 *
 * @module
 */

import type { Series } from "../storage.ts";
import { exportUrl } from "./wire.ts";
import {
  compareKeys,
  ExportParser,
  mergeSeries,
  type StoredSeries,
} from "./export.ts";
import { MAX_FUTURE_MS, slotMs } from "./order.ts";
import type { RecentWrites } from "./recent.ts";
import { LineBlocks } from "./lines.ts";
import type { VictoriaMetricsHttp } from "./http.ts";

/** Reads points back from VictoriaMetrics; see the module documentation. */
export class ExportReader {
  readonly #http: VictoriaMetricsHttp;
  readonly #exportUrl: string;
  readonly #recent: RecentWrites;

  /**
   * @param http The store's HTTP side.
   * @param exportUrl Its `.../api/v1/export`.
   * @param recent Its recent writes, overlaid on what it reads.
   */
  constructor(
    http: VictoriaMetricsHttp,
    exportUrl: string,
    recent: RecentWrites,
  ) {
    this.#http = http;
    this.#exportUrl = exportUrl;
    this.#recent = recent;
  }

  /**
   * The points of `key` from `from` to `to` (Unix seconds, inclusive):
   * VictoriaMetrics exports only that time range, and only recent writes
   * inside it are overlaid.
   */
  /** See `VictoriaMetricsStore.getRange`. */
  async getRange(
    key: string,
    from: number,
    to: number,
  ): Promise<Series | undefined> {
    const [stored] = await this.#export(key, from, to);
    return mergeSeries(
      key,
      stored,
      this.#recent.get(key, Date.now()),
      from,
      to,
    );
  }

  /**
   * Every key's points, keys sorted by name (VictoriaMetrics does not keep
   * the order keys were first stored in). Each key's points are merged
   * with recent writes as the answer is read.
   */
  async getAll(): Promise<Iterable<Series>> {
    const now = Date.now();
    const every = await this.#everyKey(now);
    return this.#merged(every, now);
  }

  /**
   * {@link VictoriaMetricsStore.getAll}'s data lines, each key's written
   * as soon as its line of the export is read, while VictoriaMetrics
   * sends the others.
   */
  async getAllLines(): Promise<Iterable<Uint8Array>> {
    const now = Date.now();
    const blocks = new LineBlocks();
    const written = new Map<string, Uint8Array[] | undefined>();
    const every = await this.#everyKey(now, (key, series) => {
      written.set(
        key,
        series &&
          blocks.write(mergeSeries(key, series, this.#recent.get(key, now))),
      );
    });
    return this.#lines(every, written, blocks, now);
  }

  /**
   * Every key VictoriaMetrics or recent writes hold, sorted by name, with
   * its exported points (`parsed` hears of each as it is read).
   */
  async #everyKey(
    now: number,
    parsed?: (key: string, series?: StoredSeries) => void,
  ): Promise<StoredSeries[]> {
    const stored = await this.#export("*", -Infinity, Infinity, parsed);
    const storedKeys = new Set(stored.map((series) => series.key));
    const recentOnly: StoredSeries[] = [];
    for (const writes of this.#recent.all(now)) {
      if (!storedKeys.has(writes.key)) {
        recentOnly.push({ key: writes.key, ms: [], values: [] });
      }
    }
    return recentOnly.length === 0
      ? stored
      : [...stored, ...recentOnly].sort((a, b) => compareKeys(a.key, b.key));
  }

  *#merged(stored: readonly StoredSeries[], now: number): Iterable<Series> {
    for (const series of stored) {
      const merged = mergeSeries(
        series.key,
        series,
        this.#recent.get(series.key, now),
      );
      if (merged !== undefined) yield merged;
    }
  }

  /** The lines `written` as the export was read, the rest written now. */
  *#lines(
    stored: readonly StoredSeries[],
    written: ReadonlyMap<string, Uint8Array[] | undefined>,
    blocks: LineBlocks,
    now: number,
  ): Iterable<Uint8Array> {
    for (const series of stored) {
      yield* written.get(series.key) ?? blocks.write(
        mergeSeries(series.key, series, this.#recent.get(series.key, now)),
      );
    }
  }

  /**
   * Exports the seconds `from` to `to` of `key` (or `*`) with retries,
   * parsed as it streams in.
   */
  async #export(
    key: string,
    from: number,
    to: number,
    parsed?: (key: string, series?: StoredSeries) => void,
  ): Promise<StoredSeries[]> {
    // Second s is stored in (s*1000 - 1000, s*1000] ms (see order.ts);
    // nothing is stored before the epoch or past the backend's future
    // limit, so the range is cut to what could hold points.
    const startMs = Math.max(0, slotMs(from, 0));
    const endMs = Math.min(
      to * 1000,
      (Math.ceil((Date.now() + MAX_FUTURE_MS) / 1000) + 86_400) * 1000,
    );
    if (startMs > endMs) return [];
    return await this.#http.request({
      what: "export",
      url: exportUrl(this.#exportUrl, key, startMs, endMs),
      label: this.#exportUrl,
      // fetch asks for gzip by default: VictoriaMetrics then compresses
      // the export and sends it in thousands of small pieces (2M points:
      // 1.7 s against 0.5 s read as it is).
      init: { headers: { "accept-encoding": "identity" } },
      read: async (response, progress) => {
        const parser = new ExportParser(parsed);
        const decoder = new TextDecoder();
        const reader = response.body?.getReader();
        for (let chunk = await reader?.read(); chunk?.done === false;) {
          progress();
          parser.push(decoder.decode(chunk.value, { stream: true }));
          chunk = await reader?.read();
        }
        parser.push(decoder.decode());
        return parser.finish();
      },
    });
  }
}
