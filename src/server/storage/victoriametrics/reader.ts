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
import { type ExportedKey, ExportLines } from "./export_lines.ts";
import type { BodySink, VictoriaMetricsHttp } from "./http.ts";

/** Reads points back from VictoriaMetrics; see the module documentation. */
export class ExportReader {
  readonly #http: VictoriaMetricsHttp;
  readonly #exportUrl: string;
  readonly #recent: RecentWrites;
  /** Tells this reader's exports from any other front-end's. */
  readonly #id = Array.from(
    crypto.getRandomValues(new Uint32Array(2)),
    (word) => word.toString(16).padStart(8, "0"),
  ).join("");
  #exports = 0;

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
  async getRange(
    key: string,
    from: number,
    to: number,
  ): Promise<Series | undefined> {
    const [stored] = await this.#export(
      key,
      from,
      to,
      () => new TextSink(new ExportParser()),
    );
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
   * {@link VictoriaMetricsStore.getLines}: the data lines of `key` (or of
   * every key for `*`), each key's written as soon as its line of the
   * export is read, while VictoriaMetrics sends the others.
   */
  async getLines(key: string): Promise<Iterable<Uint8Array>> {
    const now = Date.now();
    const blocks = new LineBlocks();
    const written = new Map<string, Uint8Array[] | undefined>();
    const stored = await this.#export(key, -Infinity, Infinity, () => {
      written.clear(); // a retry reads the export anew
      return new ExportLines((exported, line, layout) => {
        const pieces = line && layout &&
          blocks.writeExport(line, layout, this.#recent.get(exported, now));
        written.set(exported, pieces);
        return pieces !== undefined;
      });
    });
    const recentOnly = (only: string): ExportedKey => ({
      key: only,
      series: undefined,
    });
    const every = key !== "*"
      ? (stored.length > 0 ? stored : [recentOnly(key)])
      : this.#withRecent(stored, now, recentOnly);
    return this.#lines(every, written, blocks, now);
  }

  /**
   * Every key VictoriaMetrics or recent writes hold, sorted by name, with
   * its exported points.
   */
  async #everyKey(now: number): Promise<StoredSeries[]> {
    const stored = await this.#export(
      "*",
      -Infinity,
      Infinity,
      () => new TextSink(new ExportParser()),
    );
    return this.#withRecent(
      stored,
      now,
      (key) => ({ key, ms: [], values: [] }),
    );
  }

  /**
   * `stored` (sorted by key) with the keys only recent writes hold added
   * as `recentOnly` makes them, sorted by key.
   */
  #withRecent<T extends { readonly key: string }>(
    stored: T[],
    now: number,
    recentOnly: (key: string) => T,
  ): T[] {
    const storedKeys = new Set(stored.map((entry) => entry.key));
    const added: T[] = [];
    for (const writes of this.#recent.all(now)) {
      if (!storedKeys.has(writes.key)) added.push(recentOnly(writes.key));
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

  /** The lines `written` as the export was read, the rest written now. */
  *#lines(
    every: readonly ExportedKey[],
    written: ReadonlyMap<string, Uint8Array[] | undefined>,
    blocks: LineBlocks,
    now: number,
  ): Iterable<Uint8Array> {
    for (const { key, series } of every) {
      yield* written.get(key) ?? blocks.write(
        mergeSeries(key, series, this.#recent.get(key, now)),
      );
    }
  }

  /**
   * Exports the seconds `from` to `to` of `key` (or `*`) with retries,
   * parsed as it streams in.
   */
  async #export<T>(
    key: string,
    from: number,
    to: number,
    sink: () => BodySink<T[]>,
  ): Promise<T[]> {
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
      sink,
    });
  }
}

/** An {@link ExportParser} fed with the body's bytes as text. */
class TextSink implements BodySink<StoredSeries[]> {
  readonly #parser: ExportParser;
  readonly #decoder = new TextDecoder();

  constructor(parser: ExportParser) {
    this.#parser = parser;
  }

  push(chunk: Uint8Array): void {
    this.#parser.push(this.#decoder.decode(chunk, { stream: true }));
  }

  finish(): StoredSeries[] {
    this.#parser.push(this.#decoder.decode());
    return this.#parser.finish();
  }
}
