/**
 * The read side of the VictoriaMetrics store: `/api/v1/export/native`
 * (only the key and the time range asked for: VictoriaMetrics' stored
 * blocks, decoded as they arrive) merged with this front-end's recent
 * writes.
 *
 * @module
 */

import type { Series } from "../storage.ts";
import { exportUrl } from "./wire.ts";
import { compareKeys, mergeSeries } from "./export.ts";
import { MAX_FUTURE_MS, slotMs } from "./order.ts";
import type { RecentWrites } from "./recent.ts";
import { type ExportedSeries, NativeExport } from "./native/export_body.ts";
import type { VictoriaMetricsHttp } from "./http.ts";

const NOTHING_EXPORTED: ExportedSeries = {
  keys: [],
  series: () => {
    throw new RangeError("no key was exported");
  },
  release: () => {},
};

/** Reads points back from VictoriaMetrics; see the module documentation. */
export class ExportReader {
  readonly #http: VictoriaMetricsHttp;
  readonly #exportUrl: string;
  readonly #recent: RecentWrites;
  readonly #maxPoints: number;
  /** Tells this reader's exports from any other front-end's. */
  readonly #id = Array.from(
    crypto.getRandomValues(new Uint32Array(2)),
    (word) => word.toString(16).padStart(8, "0"),
  ).join("");
  #exports = 0;

  /**
   * @param http The store's HTTP side.
   * @param exportUrl Its `.../api/v1/export/native`.
   * @param recent Its recent writes, overlaid on what it reads.
   * @param maxPoints Most points one export may hold (see
   * `maxExportPoints`).
   */
  constructor(
    http: VictoriaMetricsHttp,
    exportUrl: string,
    recent: RecentWrites,
    maxPoints: number,
  ) {
    this.#http = http;
    this.#exportUrl = exportUrl;
    this.#recent = recent;
    this.#maxPoints = maxPoints;
  }

  /**
   * The points of `key` from `from` to `to` (Unix seconds, inclusive):
   * VictoriaMetrics exports only that time range, and only recent writes
   * inside it are overlaid.
   */
  async getRange(
    key: string,
    from: number,
    to: number,
  ): Promise<Series | undefined> {
    const exported = await this.#export(key, from, to);
    try {
      return mergeSeries(
        key,
        exported.keys.length > 0 ? exported.series(0) : undefined,
        this.#recent.get(key, Date.now()),
        from,
        to,
      );
    } finally {
      exported.release();
    }
  }

  /**
   * Every key's points, keys sorted by name (VictoriaMetrics does not keep
   * the order keys were first stored in), each merged with recent writes.
   */
  async getAll(): Promise<Iterable<Series>> {
    const now = Date.now();
    const exported = await this.#export("*", -Infinity, Infinity);
    return this.#merged(this.#everyKey(exported.keys, now), now, exported);
  }

  /**
   * Every key VictoriaMetrics (`stored`, sorted) or recent writes hold,
   * sorted by name, each with its index in `stored` (-1 for none).
   */
  #everyKey(stored: readonly string[], now: number): [string, number][] {
    const keys = stored.map((key, i): [string, number] => [key, i]);
    const storedKeys = new Set(stored);
    const before = keys.length;
    for (const writes of this.#recent.all(now)) {
      if (!storedKeys.has(writes.key)) keys.push([writes.key, -1]);
    }
    return keys.length === before
      ? keys
      : keys.sort((a, b) => compareKeys(a[0], b[0]));
  }

  /**
   * Each key of `keys` with its exported points merged with recent
   * writes, into columns of its own; the export's are released once the
   * last key was merged.
   */
  *#merged(
    keys: readonly [string, number][],
    now: number,
    exported: ExportedSeries,
  ): Iterable<Series> {
    try {
      for (const [key, i] of keys) {
        const merged = mergeSeries(
          key,
          i < 0 ? undefined : exported.series(i),
          this.#recent.get(key, now),
        );
        if (merged !== undefined) yield merged;
      }
    } finally {
      exported.release();
    }
  }

  /**
   * Exports the seconds `from` to `to` of `key` (or `*`) with retries,
   * decoded as it streams in.
   *
   * @throws {StorageRefusal} when it holds more than `maxPoints` points
   * (not retried).
   */
  async #export(
    key: string,
    from: number,
    to: number,
  ): Promise<ExportedSeries> {
    // Second s is stored in (s*1000 - 1000, s*1000] ms (see order.ts);
    // nothing is stored before the epoch or past the backend's future
    // limit, so the range is cut to what could hold points.
    const startMs = Math.max(0, slotMs(from, 0));
    const endMs = Math.min(
      to * 1000,
      (Math.ceil((Date.now() + MAX_FUTURE_MS) / 1000) + 86_400) * 1000,
    );
    if (startMs > endMs) return NOTHING_EXPORTED;
    return await this.#http.stream({
      what: "export",
      // A selector VictoriaMetrics never saw, so no cached match hides
      // series created since (see exportSelector).
      url: exportUrl(
        this.#exportUrl,
        key,
        startMs,
        endMs,
        `fresh_${this.#id}_${this.#exports++}`,
      ),
      label: this.#exportUrl,
      sink: () => new NativeExport(this.#maxPoints),
    });
  }
}
