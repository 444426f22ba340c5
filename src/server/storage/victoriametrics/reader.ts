/**
 * The read side of the VictoriaMetrics store: `/api/v1/export/native`
 * (only the key and the time range asked for: VictoriaMetrics' stored
 * blocks, decoded as they arrive) merged with this front-end's recent
 * writes. A streamed `get *` lists the names first and exports them in
 * ranges (see `key_ranges.ts`), the next in flight while one is read.
 *
 * @module
 */

import type { Series } from "../storage.ts";
import { exportUrl, namesForm, type VictoriaMetricsUrls } from "./wire.ts";
import { compareKeys, mergeSeries } from "./export.ts";
import { MAX_FUTURE_MS, slotMs } from "./order.ts";
import type { RecentWrites } from "./recent.ts";
import { type ExportedSeries, NativeExport } from "./native/export_body.ts";
import type { VictoriaMetricsHttp } from "./http.ts";
import { FIRST_RANGE_KEYS, listedNames, nextRangeKeys } from "./key_ranges.ts";

const NOTHING_EXPORTED: ExportedSeries = {
  keys: [],
  points: 0,
  series: () => {
    throw new RangeError("no key was exported");
  },
  release: () => {},
};

/** An export of a range of keys in flight, and which keys it answers. */
interface Pending {
  readonly exported: Promise<ExportedSeries>;
  /** The range's keys, sorted, once the export is in. */
  readonly keys: (exported: ExportedSeries) => readonly string[];
}

/** Reads points back from VictoriaMetrics; see the module documentation. */
export class ExportReader {
  readonly #http: VictoriaMetricsHttp;
  readonly #urls: Pick<VictoriaMetricsUrls, "exportUrl" | "namesUrl">;
  readonly #recent: RecentWrites;
  readonly #maxPoints: number;
  readonly #maxListed: number;
  /** Tells this reader's exports from any other front-end's. */
  readonly #id = Array.from(
    crypto.getRandomValues(new Uint32Array(2)),
    (word) => word.toString(16).padStart(8, "0"),
  ).join("");
  #exports = 0;

  /**
   * @param http The store's HTTP side.
   * @param urls Its `.../api/v1/export/native` and
   * `.../api/v1/label/__name__/values`.
   * @param recent Its recent writes, overlaid on what it reads.
   * @param maxPoints Most points one get may hold at once (see
   * `maxExportPoints`).
   * @param maxListed A listing of this many names may have been cut
   * short (`-search.maxTagValues`): `streamAll` then exports every key
   * at once.
   */
  constructor(
    http: VictoriaMetricsHttp,
    urls: Pick<VictoriaMetricsUrls, "exportUrl" | "namesUrl">,
    recent: RecentWrites,
    maxPoints: number,
    maxListed: number,
  ) {
    this.#http = http;
    this.#urls = urls;
    this.#recent = recent;
    this.#maxPoints = maxPoints;
    this.#maxListed = maxListed;
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
    return this.#merged(this.#withRecent(exported.keys, now), now, exported);
  }

  /**
   * What {@link getAll} answers, read in ranges of keys: the names
   * VictoriaMetrics lists and those of recent writes, sorted, are
   * exported a range at a time, the next range in flight while this one
   * is read. At most `maxPoints` points are held at once: a range gets
   * what the one before left. Keys of few points (see `key_ranges.ts`)
   * go in one export after the first range, and a listing that may have
   * been cut short (`maxListed` names) makes it export every key at once.
   *
   * @throws {StorageRefusal} from the step that exports a range too
   * large to take.
   */
  async *streamAll(): AsyncGenerator<Series, void, undefined> {
    const now = Date.now();
    const names = await this.#listNames();
    if (names.length >= this.#maxListed) {
      yield* await this.getAll();
      return;
    }
    const keys = this.#withRecent(names.sort(compareKeys), now);
    let start = 0;
    let size = Math.min(FIRST_RANGE_KEYS, keys.length);
    let seenPoints = 0;
    let next: Pending | undefined = size === 0
      ? undefined
      : this.#nextRange(keys, 0, size, this.#maxPoints, now);
    try {
      while (next !== undefined) {
        const exported = await next.exported;
        const range = next.keys(exported);
        next = undefined;
        start += range.length;
        seenPoints += exported.points;
        // After the export of the rest (size Infinity) no key is left.
        if (size !== Infinity && start < keys.length) {
          size = nextRangeKeys(size, start, seenPoints);
          next = this.#nextRange(
            keys,
            start,
            size,
            this.#maxPoints - exported.points,
            now,
          );
          // Awaited next round; its failure is not unhandled meanwhile.
          next.exported.catch(() => {});
        }
        yield* this.#merged(range, now, exported);
      }
    } finally {
      // Stopped early: the range in flight is released once it is in.
      next?.exported.then((exported) => exported.release(), () => {});
    }
  }

  /**
   * The export of `size` keys of `keys` from `start` on, holding at most
   * `maxPoints`; with `size` `Infinity`, of every key past those before
   * `start`, VictoriaMetrics' whole export taken from there.
   */
  #nextRange(
    keys: readonly string[],
    start: number,
    size: number,
    maxPoints: number,
    now: number,
  ): Pending {
    if (size !== Infinity) {
      const range = keys.slice(start, start + size);
      return {
        exported: this.#exportNames(range, maxPoints),
        keys: () => range,
      };
    }
    const last = keys[start - 1];
    return {
      exported: this.#export("*", -Infinity, Infinity, maxPoints),
      keys: (exported) =>
        this.#withRecent(exported.keys, now).filter((key) =>
          compareKeys(key, last) > 0
        ),
    };
  }

  /**
   * `stored` (sorted) with every key recent writes hold, sorted by name,
   * each once.
   */
  #withRecent(stored: readonly string[], now: number): string[] {
    const keys = [...stored];
    const storedKeys = new Set(stored);
    for (const writes of this.#recent.all(now)) {
      if (!storedKeys.has(writes.key)) keys.push(writes.key);
    }
    return keys.length === stored.length ? keys : keys.sort(compareKeys);
  }

  /**
   * Each of `keys` (sorted) with its exported points merged with recent
   * writes, into columns of its own; the export's are released once the
   * last key was merged.
   */
  *#merged(
    keys: readonly string[],
    now: number,
    exported: ExportedSeries,
  ): Iterable<Series> {
    try {
      const stored = exported.keys;
      let i = 0;
      for (const key of keys) {
        while (i < stored.length && compareKeys(stored[i], key) < 0) i++;
        const merged = mergeSeries(
          key,
          stored[i] === key ? exported.series(i) : undefined,
          this.#recent.get(key, now),
        );
        if (merged !== undefined) yield merged;
      }
    } finally {
      exported.release();
    }
  }

  /** The names of every series VictoriaMetrics holds, with retries. */
  async #listNames(): Promise<string[]> {
    const [startMs, endMs] = span(-Infinity, Infinity);
    return await this.#http.request({
      what: "listing",
      url: exportUrl(this.#urls.namesUrl, "*", startMs, endMs, this.#fresh()),
      label: this.#urls.namesUrl,
      read: async (response) => listedNames(await response.text()),
    });
  }

  /**
   * Exports every point of the series named `names`, like
   * {@link ExportReader.#export}, holding at most `maxPoints` of them.
   */
  #exportNames(
    names: readonly string[],
    maxPoints: number,
  ): Promise<ExportedSeries> {
    const [startMs, endMs] = span(-Infinity, Infinity);
    return this.#http.stream({
      what: "export",
      url: this.#urls.exportUrl,
      form: namesForm(names, startMs, endMs, this.#fresh()),
      label: this.#urls.exportUrl,
      sink: () => new NativeExport(maxPoints),
    });
  }

  /**
   * Exports the seconds `from` to `to` of `key` (or `*`) with retries,
   * decoded as it streams in.
   *
   * @throws {StorageRefusal} when it holds more than `maxPoints` points
   * (by default the reader's; not retried).
   */
  async #export(
    key: string,
    from: number,
    to: number,
    maxPoints: number = this.#maxPoints,
  ): Promise<ExportedSeries> {
    const [startMs, endMs] = span(from, to);
    if (startMs > endMs) return NOTHING_EXPORTED;
    return await this.#http.stream({
      what: "export",
      url: exportUrl(this.#urls.exportUrl, key, startMs, endMs, this.#fresh()),
      label: this.#urls.exportUrl,
      sink: () => new NativeExport(maxPoints),
    });
  }

  /**
   * A label name no series has and no request asked before, so no cached
   * match hides series created since (see `exportSelector`).
   */
  #fresh(): string {
    return `fresh_${this.#id}_${this.#exports++}`;
  }
}

/**
 * The milliseconds to export for the seconds `from` to `to`: second s is
 * stored in (s*1000 - 1000, s*1000] ms (see order.ts); nothing is stored
 * before the epoch or past the backend's future limit, so the range is cut
 * to what could hold points. Empty when the start is past the end.
 */
function span(from: number, to: number): [number, number] {
  return [
    Math.max(0, slotMs(from, 0)),
    Math.min(
      to * 1000,
      (Math.ceil((Date.now() + MAX_FUTURE_MS) / 1000) + 86_400) * 1000,
    ),
  ];
}
