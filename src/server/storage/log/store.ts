/**
 * The durable {@link Storage}: every point in memory, plus an append-only
 * log in a directory, replayed at start and compacted when it holds far
 * more points than are live. File format: `format.ts`.
 *
 * @module
 */

import { FrameWriter, MAGIC, readLog } from "./format.ts";
import { MemoryStore } from "../memory.ts";
import type { Series, Storage, StoredPoint } from "../storage.ts";
import { writeAll } from "../../../internal/write_all.ts";

/**
 * When the log is forced to disk.
 * - `"batch"`: before each batch is acknowledged; an acknowledged put
 *   survives a crash of the machine (power loss).
 * - `"interval"`: every `fsyncInterval` (`serve`: seconds); a put is acknowledged once
 *   written to the operating system, so it survives a crash (`kill -9`) of
 *   the process, and a power loss may lose the last interval.
 */
export type FsyncMode = "batch" | "interval";

/** Options of {@link LogStore.open}. */
export interface LogStoreOptions {
  /**
   * When the log is forced to disk; see {@link FsyncMode}.
   * @default {"batch"}
   */
  fsync?: FsyncMode;
  /**
   * Milliseconds between forced writes in `"interval"` mode.
   * @default {1000}
   */
  fsyncInterval?: number;
  /**
   * The log is rewritten from memory once it holds more than this many
   * points and more than twice the live point count.
   * @default {100000}
   */
  compactMinPoints?: number;
  /**
   * Receives diagnostics: replay summary, dropped tails, failures.
   * @default {console.error}
   */
  log?: (message: string) => void;
}

const LOG_NAME = "metrics.log";
/** Points per record in a compacted log, so no frame gets huge. */
const COMPACT_RUN = 64 * 1024;
/** Bytes gathered before a compaction frame is written. */
const COMPACT_FRAME_BYTES = 1024 * 1024;

/** Keeps points in memory and in an append-only log in a directory. */
export class LogStore implements Storage {
  /** Path of the log file. */
  readonly path: string;
  readonly #dir: string;
  readonly #memory: MemoryStore;
  readonly #fsync: FsyncMode;
  readonly #log: (message: string) => void;
  #compactMinPoints: number;
  #file: Deno.FsFile;
  /** Points in the log file, overwritten ones included. */
  #logPoints: number;
  /** Puts taken but not yet written, for the next commit. */
  #frame = new FrameWriter();
  /** The queued commit that will write `#frame`; one for many batches. */
  #commit: Promise<void> | undefined;
  /** File work runs one task at a time, in this chain. */
  #tail: Promise<void> = Promise.resolve();
  /** Set when a write failed: the log may end in a torn frame. */
  #failure: Error | undefined;
  #compacting = false;
  #unsynced = false;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    dir: string,
    file: Deno.FsFile,
    memory: MemoryStore,
    logPoints: number,
    options: LogStoreOptions,
  ) {
    this.#dir = dir;
    this.path = `${dir}/${LOG_NAME}`;
    this.#file = file;
    this.#memory = memory;
    this.#logPoints = logPoints;
    this.#fsync = options.fsync ?? "batch";
    this.#compactMinPoints = options.compactMinPoints ?? 100_000;
    this.#log = options.log ?? console.error;
    if (this.#fsync === "interval") {
      this.#timer = setInterval(
        () => this.#syncIfNeeded(),
        options.fsyncInterval ?? 1000,
      );
    }
  }

  /**
   * Opens (or creates) the log in `dir` and replays it into memory. A torn
   * or corrupt tail is dropped with a warning; the log is compacted at once
   * if it is due.
   *
   * @throws {Error} when the directory cannot be used or `metrics.log` in
   * it is not a metrics log.
   */
  static async open(
    dir: string,
    options: LogStoreOptions = {},
  ): Promise<LogStore> {
    const log = options.log ?? console.error;
    const path = `${dir}/${LOG_NAME}`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.remove(`${path}.compact`).catch(ignoreNotFound);
    const started = performance.now();
    const memory = new MemoryStore();
    const file = await Deno.open(path, {
      read: true,
      append: true,
      create: true,
    });
    try {
      const scan = await readLog(
        file,
        (key, timestamp, value) => memory.upsert(key, timestamp, value),
      );
      if (scan.validBytes === 0) {
        await file.truncate(0);
        await writeAll(file, MAGIC);
        await file.syncData();
        await syncDirectory(dir);
      } else if (scan.problem !== undefined) {
        log(
          `warning: ${path}: ${scan.problem} at byte ${scan.validBytes}; dropping the last ${
            scan.fileBytes - scan.validBytes
          } bytes (a torn or corrupt tail, never acknowledged if torn by a crash)`,
        );
        await file.truncate(scan.validBytes);
        await file.syncData();
      }
      log(
        `replayed ${scan.pointCount} puts (${memory.pointCount} points) from ${path} in ${
          Math.round(performance.now() - started)
        } ms`,
      );
      const store = new LogStore(dir, file, memory, scan.pointCount, options);
      store.#compactIfDue();
      return store;
    } catch (error) {
      file.close();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot open the metrics log ${path}: ${reason}`, {
        cause: error,
      });
    }
  }

  /**
   * Stores the batch in memory at once and resolves when it is written to
   * the log (and forced to disk in `"batch"` mode). Batches arriving while
   * a write runs share the next write and fsync.
   */
  put(points: readonly StoredPoint[]): Promise<void> {
    const failure = this.#failure ??
      (this.#closing ? new Error("the log store is closed") : undefined);
    if (failure !== undefined) return Promise.reject(failure);
    this.#memory.put(points);
    this.#frame.appendPoints(points);
    return this.#commit ??= this.#serially(() => this.#write());
  }

  /** The points of `key`, or `undefined`. */
  get(key: string): Series | undefined {
    return this.#memory.get(key);
  }

  /** Every key's points, in first-seen key order. */
  getAll(): Iterable<Series> {
    return this.#memory.getAll();
  }

  /**
   * Writes and forces to disk what is pending, then closes the file.
   * Rejects if the log could not be written. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#timer);
    try {
      await this.#serially(() => this.#file.syncData());
    } finally {
      this.#file.close();
    }
  }

  /**
   * Runs `task` after every task queued before it. A failed task leaves
   * the log possibly ending in a torn frame, after which appended frames
   * would never be replayed: so every later task fails too.
   */
  #serially(task: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(() => {
      if (this.#failure) throw this.#failure;
      return task();
    });
    this.#tail = run.catch((error) => {
      this.#failure ??= error instanceof Error ? error : new Error(`${error}`);
    });
    return run;
  }

  async #write(): Promise<void> {
    this.#commit = undefined;
    const points = this.#frame.pointCount;
    await writeAll(this.#file, this.#frame.take());
    this.#logPoints += points;
    if (this.#fsync === "batch") await this.#file.syncData();
    else this.#unsynced = true;
    this.#compactIfDue();
  }

  #syncIfNeeded(): void {
    if (!this.#unsynced || this.#closing) return;
    this.#unsynced = false;
    this.#serially(() => this.#file.syncData()).catch((error) =>
      this.#log(`error: cannot fsync ${this.path}: ${error}`)
    );
  }

  #compactIfDue(): void {
    const due = Math.max(this.#compactMinPoints, 2 * this.#memory.pointCount);
    if (this.#compacting || this.#logPoints <= due) return;
    this.#compacting = true;
    // Not awaited by the commit that triggered it: its puts are stored.
    this.#serially(() => this.#compact()).catch(() => {});
  }

  /**
   * Rewrites the log from memory: a temporary file, fsync, rename over the
   * log, fsync the directory. Puts that land while the snapshot is written
   * are appended to the new log after it, so its replay ends in the live
   * state whatever the snapshot caught of them.
   */
  async #compact(): Promise<void> {
    const started = performance.now();
    const before = this.#logPoints;
    const temp = `${this.path}.compact`;
    let file: Deno.FsFile | undefined;
    let written = 0;
    try {
      file = await Deno.open(temp, { append: true, create: true });
      await file.truncate(0);
      await writeAll(file, MAGIC);
      written = await this.#writeSnapshot(file);
      await file.syncData();
      await Deno.rename(temp, this.path);
    } catch (error) {
      file?.close();
      await Deno.remove(temp).catch(ignoreNotFound);
      // The old log is intact; try again only once it has doubled.
      this.#compactMinPoints = 2 * this.#logPoints;
      this.#log(`warning: cannot compact ${this.path}, keeping it: ${error}`);
      return;
    } finally {
      this.#compacting = false;
    }
    this.#file.close();
    this.#file = file;
    this.#logPoints = written;
    await syncDirectory(this.#dir);
    this.#log(
      `compacted ${this.path}: ${before} puts to ${written} points in ${
        Math.round(performance.now() - started)
      } ms`,
    );
  }

  async #writeSnapshot(file: Deno.FsFile): Promise<number> {
    const frame = new FrameWriter();
    let written = 0;
    const flush = async (): Promise<void> => {
      written += frame.pointCount;
      await writeAll(file, frame.take());
    };
    for (const series of this.#memory.getAll()) {
      for (let from = 0; from < series.timestamps.length; from += COMPACT_RUN) {
        // Fresh views each run: the series may have grown during a write.
        const { timestamps, values } = series;
        const to = Math.min(from + COMPACT_RUN, timestamps.length);
        frame.appendRun(series.key, timestamps, values, from, to);
        if (frame.byteLength >= COMPACT_FRAME_BYTES) await flush();
      }
    }
    if (frame.pointCount > 0) await flush();
    return written;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
