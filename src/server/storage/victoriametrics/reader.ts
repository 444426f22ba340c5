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
import { compareKeys, mergeSeries, type StoredSeries } from "./export.ts";
import { MAX_FUTURE_MS, slotMs } from "./order.ts";
import type { RecentWrites } from "./recent.ts";
import { NativeExport } from "./native/export_body.ts";
import type { VictoriaMetricsHttp } from "./http.ts";

const NONE = new Float64Array(0);

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
   * the order keys were first stored in), each merged with recent writes.
   */
  async getAll(): Promise<Iterable<Series>> {
    const now = Date.now();
    return this.#merged(await this.#everyKey(now), now);
  }

  /**
   * Every key VictoriaMetrics or recent writes hold, sorted by name, with
   * its exported points.
   */
  async #everyKey(now: number): Promise<StoredSeries[]> {
    const stored = await this.#export("*", -Infinity, Infinity);
    const storedKeys = new Set(stored.map((entry) => entry.key));
    const added: StoredSeries[] = [];
    for (const writes of this.#recent.all(now)) {
      if (!storedKeys.has(writes.key)) {
        added.push({ key: writes.key, ms: NONE, values: NONE });
      }
    }
    return added.length === 0
      ? stored
      : [...stored, ...added].sort((a, b) => compareKeys(a.key, b.key));
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
