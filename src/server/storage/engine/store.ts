/**
 * The in-memory half of the storage engine (docs/storage-engine.md): per
 * key, sealed chunks (codec `packed`, each inside one UTC day) and a head
 * of recent points, sealed at `headPoints` points or when a point opens a
 * later day. Keys are kept in first-seen order (a `Map` keeps insertion
 * order); a key with one point costs a slot in one shared column.
 *
 * Any timestamp is taken, the last write of a (key, second) wins, and the
 * point count is exact: a point at a sealed second stays in the head,
 * shadowing the chunk's, until the head is sealed; then the chunk is
 * decoded, merged and re-encoded, and the rewritten chunk is reported by
 * {@link ChunkStore.takeSealed} like a newly sealed one.
 *
 * @module
 */

import { MAX_CHUNK_POINTS } from "../chunk/chunk.ts";
import { flatCopy } from "../../../internal/flat.ts";
import type {
  PointBatch,
  Series,
  Storage,
  StorageSize,
  StoredPoint,
} from "../storage.ts";
import type { ListedChunk } from "./chunk_list.ts";
import { KeySeries } from "./key_series.ts";
import { SeriesContext } from "./series_context.ts";
import { dayOf } from "./merge.ts";
import { OnePointColumn } from "../one_point_column.ts";
import { upsertEach } from "../point_columns.ts";
import { SealQueue } from "./seal_queue.ts";
import type {
  ChunkedMemory,
  DayChunk,
  HeadSink,
  LoadedChunk,
  SealedChunk,
} from "./sealed.ts";

/** Caps and sizes of a {@link ChunkStore}. */
export interface ChunkStoreOptions {
  /**
   * Most keys; a put of a new key past it is refused (`too many keys`).
   * @default {Infinity}
   */
  maxKeys?: number;
  /**
   * Most points; a put of a new point past it is refused (`too many
   * points`), a rewrite of a stored one is not.
   * @default {Infinity}
   */
  maxPoints?: number;
  /**
   * Points at which a key's head is sealed into a chunk (1 to 32,768).
   * @default {120}
   */
  headPoints?: number;
  /**
   * Encode full heads into chunks on a worker thread (`seal_queue.ts`),
   * while the main thread goes on storing puts; {@link ChunkStore.close}
   * ends it.
   * @default {false}
   */
  sealWorker?: boolean;
  /**
   * Points sealed under a steady load before the seal worker starts (see
   * `SealQueue`); until then, and after it ended, heads are sealed here.
   * @default {0}
   */
  sealWorkerAfter?: number;
  /**
   * Keep each chunk sealed or rewritten until {@link ChunkStore.takeSealed}
   * takes it. `false` where nothing takes them (a store only in memory),
   * so they are not held twice.
   * @default {true}
   */
  keepSealed?: boolean;
}

/** Keeps every point in memory, sealed into compressed chunks per key. */
export class ChunkStore implements Storage, ChunkedMemory {
  /** Each key's series, or for a one-point key its slot in `#singles`. */
  readonly #series = new Map<string, KeySeries | number>();
  readonly #singles = new OnePointColumn();
  readonly #context: SeriesContext;
  readonly #sealer: SealQueue | undefined;
  readonly #maxKeys: number;
  readonly #maxPoints: number;
  #sealed: SealedChunk[] = [];
  /** Chunks sealed or rewritten, by UTC day (see `sealedOfDay`). */
  readonly #sealedOfDay = new Map<number, number>();
  #pointCount = 0;
  /** A one-point key's head, as {@link ChunkStore.writeHeads} hands it on. */
  readonly #singleScratch = {
    timestamps: new Float64Array(1),
    values: new Float64Array(1),
  };

  /**
   * @param options Caps (none by default) and the head size.
   * @throws {RangeError} when `headPoints` is not an integer from 1 to 32,768.
   */
  constructor(options: ChunkStoreOptions = {}) {
    this.#maxKeys = options.maxKeys ?? Infinity;
    this.#maxPoints = options.maxPoints ?? Infinity;
    const headPoints = options.headPoints ?? 120;
    if (
      !Number.isInteger(headPoints) || headPoints < 1 ||
      headPoints > MAX_CHUNK_POINTS / 2
    ) {
      throw new RangeError(
        `headPoints must be an integer from 1 to ${
          MAX_CHUNK_POINTS / 2
        }, not ${headPoints}`,
      );
    }
    const keep = options.keepSealed ?? true;
    this.#sealer = options.sealWorker
      ? new SealQueue(options.sealWorkerAfter ?? 0)
      : undefined;
    this.#context = new SeriesContext(
      headPoints,
      keep
        ? (key, chunk) => {
          const sealed = sealedChunk(key, chunk);
          this.#sealed.push(sealed);
          const day = this.#sealedOfDay.get(sealed.day) ?? 0;
          this.#sealedOfDay.set(sealed.day, day + 1);
        }
        : () => {},
      this.#sealer,
    );
  }

  /** Number of distinct (key, timestamp) points stored. */
  get pointCount(): number {
    return this.#pointCount;
  }

  /** Number of keys stored. */
  get keyCount(): number {
    return this.#series.size;
  }

  /** Stores each point in order; the last write of a (key, second) wins. */
  put(points: readonly StoredPoint[]): void {
    for (const point of points) {
      this.upsert(point.key, point.timestamp, point.value);
    }
  }

  /** {@link ChunkStore.put} for a batch in columns. */
  putColumns(batch: PointBatch): void {
    upsertEach(batch, (key, timestamp, value) => {
      this.upsert(key, timestamp, value);
    });
  }

  /** Stores one point without allocating a {@link StoredPoint}. */
  upsert(key: string, timestamp: number, value: number): void {
    const entry = this.#series.get(key);
    if (entry === undefined) {
      // A key sliced from a request would keep the whole request alive.
      this.#series.set(flatCopy(key), this.#singles.add(timestamp, value));
      this.#pointCount++;
    } else if (typeof entry !== "number") {
      this.#pointCount += entry.upsert(timestamp, value, this.#context);
    } else if (this.#singles.timestampAt(entry) === timestamp) {
      this.#singles.setValue(entry, value);
    } else {
      const series = this.#grow(key, entry);
      this.#pointCount += series.upsert(timestamp, value, this.#context);
    }
  }

  /** Past a cap, why `point` is refused; else `undefined`. */
  refusal(point: StoredPoint): string | undefined {
    // Under both caps, as nearly always: no lookup (it costs one per put).
    if (
      this.#pointCount < this.#maxPoints && this.#series.size < this.#maxKeys
    ) {
      return undefined;
    }
    const entry = this.#series.get(point.key);
    if (entry === undefined && this.#series.size >= this.#maxKeys) {
      return "too many keys";
    }
    if (this.#pointCount < this.#maxPoints) return undefined;
    const stored = entry === undefined
      ? false
      : typeof entry === "number"
      ? this.#singles.timestampAt(entry) === point.timestamp
      : entry.has(point.timestamp, this.#context);
    return stored ? undefined : "too many points";
  }

  /** The points of `key`, or `undefined`: a copy, chunks decoded. */
  get(key: string): Series | undefined {
    return this.getRange(key, -Infinity, Infinity);
  }

  /**
   * The points of `key` from `from` to `to` (inclusive), copied; only the
   * chunks that overlap the range are decoded. `undefined` for a key never
   * stored.
   */
  getRange(key: string, from: number, to: number): Series | undefined {
    const entry = this.#series.get(key);
    if (entry === undefined) return undefined;
    if (typeof entry !== "number") return entry.read(from, to);
    const timestamp = this.#singles.timestampAt(entry);
    const inside = from <= timestamp && timestamp <= to;
    return {
      key,
      timestamps: inside ? [timestamp] : [],
      values: inside ? [this.#singles.valueAt(entry)] : [],
    };
  }

  /**
   * Every key's points, in first-seen key order; keys added meanwhile too.
   * Each key is decoded when it is reached, so the whole store is never
   * expanded at once.
   */
  *getAll(): Iterable<Series> {
    for (const [key, entry] of this.#series) {
      yield typeof entry === "number"
        ? this.#single(key, entry)
        : entry.read(-Infinity, Infinity);
    }
  }

  /** Keys and points held. */
  size(): StorageSize {
    return { keys: this.#series.size, points: this.#pointCount };
  }

  /**
   * Deletes every point older than `before` that a whole chunk (or a
   * one-point key) holds, and old head points; returns how many went. The
   * chunks deleted are dropped from what {@link ChunkStore.takeSealed}
   * gives too.
   */
  expire(before: number): number {
    let gone = 0;
    for (const [key, entry] of this.#series) {
      if (typeof entry === "number") {
        if (this.#singles.timestampAt(entry) >= before) continue;
        this.#series.delete(key);
        this.#singles.free(entry);
        gone++;
      } else {
        gone += entry.dropBefore(before, this.#context);
        if (entry.points === 0) this.#series.delete(key);
      }
    }
    this.#pointCount -= gone;
    // A chunk sealed and deleted before a checkpoint took it is not written.
    this.#sealed = this.#sealed.filter((chunk) => chunk.last >= before);
    return gone;
  }

  /** Encodes the heads on the seal worker here, and ends it. */
  close(): void {
    this.#sealer?.close();
  }

  /**
   * Chunks sealed, or rewritten by a put into a sealed range, since the
   * last call, oldest first (always empty with `keepSealed: false`).
   */
  takeSealed(): SealedChunk[] {
    this.#sealer?.settleAll();
    const taken = this.#sealed;
    this.#sealed = [];
    return taken;
  }

  /**
   * Seals each head older than `before` whose key holds a chunk of the
   * head's day (see {@link ChunkedMemory.sealEndedDays}); one-point keys
   * have no chunk and keep their point.
   */
  sealEndedDays(before: number): void {
    for (const entry of this.#series.values()) {
      if (typeof entry !== "number") entry.sealEnded(before, this.#context);
    }
  }

  /** Every key, in first-seen order, without its points. */
  keys(): Iterable<string> {
    return this.#series.keys();
  }

  /**
   * Hands `sink` every key in first-seen order with its head (empty where
   * all is sealed), through shared scratch columns: nothing is allocated
   * per key.
   */
  writeHeads(sink: HeadSink): void {
    const single = this.#singleScratch;
    for (const [key, entry] of this.#series) {
      if (typeof entry === "number") {
        single.timestamps[0] = this.#singles.timestampAt(entry);
        single.values[0] = this.#singles.valueAt(entry);
        sink(key, single.timestamps, single.values);
      } else entry.writeHead(sink, this.#context);
    }
  }

  /**
   * At start-up, chunks of `key` read from segments, in sequence order:
   * where one overlaps points already held its points win. One that
   * overlaps nothing held (the usual case: a key's chunks come in time
   * order) is kept as its bytes, its point count read from its header,
   * and is not decoded. Not reported by `takeSealed` unless it had to be
   * merged with points from elsewhere.
   *
   * @throws {ChunkError} when a chunk's header is malformed or disagrees
   * with its span and the chunk does not decode (that chunk changes
   * nothing; those before it stay loaded).
   */
  loadSegmentChunks(key: string, chunks: readonly LoadedChunk[]): void {
    const entry = this.#series.get(key);
    let series: KeySeries;
    if (entry === undefined) {
      series = new KeySeries(flatCopy(key), this.#context.headLimit);
    } else if (typeof entry === "number") series = this.#grow(key, entry);
    else series = entry;
    series.reserve(chunks);
    try {
      for (const chunk of chunks) {
        this.#pointCount += series.load(chunk, this.#context);
      }
    } finally {
      // Listed once it holds points: a refused chunk leaves no empty key.
      if (entry === undefined && series.points > 0) {
        this.#series.set(series.key, series);
      }
    }
  }

  /** Chunks of UTC day `day` sealed or rewritten since the store was made. */
  sealedOfDay(day: number): number {
    this.#sealer?.settleAll();
    return this.#sealedOfDay.get(day) ?? 0;
  }

  /**
   * Puts a compaction's output for UTC day `day` in place of each key's
   * chunks of that day, where they hold as many points over the same span
   * (see {@link ChunkedMemory.adoptDay}); returns how many keys took it.
   * The output's chunks are larger (up to a key's whole day), so the day
   * then takes about two thirds of the memory, and a read decodes fewer
   * chunks.
   */
  adoptDay(day: number, chunks: readonly DayChunk[]): number {
    let adopted = 0;
    for (let from = 0; from < chunks.length;) {
      const key = chunks[from].key;
      let to = from + 1;
      while (to < chunks.length && chunks[to].key === key) to++;
      const entry = this.#series.get(key);
      if (
        typeof entry === "object" && entry.adopt(day, chunks.slice(from, to))
      ) adopted++;
      from = to;
    }
    return adopted;
  }

  /** Moves a one-point key out of the shared column into a series of its own. */
  #grow(key: string, slot: number): KeySeries {
    const series = new KeySeries(flatCopy(key), this.#context.headLimit);
    const singles = this.#singles;
    series.upsert(
      singles.timestampAt(slot),
      singles.valueAt(slot),
      this.#context,
    );
    this.#series.set(key, series);
    singles.free(slot);
    return series;
  }

  #single(key: string, slot: number): Series {
    return {
      key,
      timestamps: [this.#singles.timestampAt(slot)],
      values: [this.#singles.valueAt(slot)],
    };
  }
}

/** A chunk as {@link ChunkStore.takeSealed} reports it. */
function sealedChunk(key: string, chunk: ListedChunk): SealedChunk {
  return {
    key,
    day: dayOf(chunk.first),
    first: chunk.first,
    last: chunk.last,
    count: chunk.count,
    bytes: chunk.bytes,
  };
}
