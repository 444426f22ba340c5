/**
 * The durable {@link Storage}: every point in memory (compressed chunks,
 * `../engine/store.ts`), plus an append-only log (`format.ts`) replayed at
 * start and compacted when it holds far more points than are live. Memory
 * holds every acknowledged point, so whenever the file cannot be trusted
 * (deleted, truncated or replaced, or a write failed) a fresh log is
 * written from memory. A damaged log found at start is copied aside first.
 *
 * @module
 */

import { FrameWriter, type LogScan, MAGIC } from "./format.ts";
import {
  copyAside,
  ignoreNotFound,
  lockDirectory,
  syncDirectory,
  writeSnapshot,
} from "./files.ts";
import { replay } from "./recovery.ts";
import type { MemoryStoreOptions } from "../memory.ts";
import { ChunkStore } from "../engine/store.ts";
import {
  type Series,
  type Storage,
  StorageRefusal,
  type StorageSize,
  type StoredPoint,
} from "../storage.ts";
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
export interface LogStoreOptions extends MemoryStoreOptions {
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
   * Seconds between attempts to write a fresh log after a write failed;
   * puts are refused (`storage full`) until one succeeds.
   * @default {1}
   */
  retryInterval?: number;
  /**
   * Receives diagnostics: replay summary, damaged logs, failures.
   * @default {console.error}
   */
  log?: (message: string) => void;
  /**
   * Told how many seconds each fsync of the log took (for the server's
   * `/metrics` page).
   * @default {undefined}
   */
  onSync?: (seconds: number) => void;
}

const LOG_NAME = "metrics.log";
/** Held locked while a server uses the directory. */
/** Least time between two checks that the log file is still ours. */
const WATCH_MS = 5;

/** Keeps points in memory and in an append-only log in a directory. */
export class LogStore implements Storage {
  /** Path of the log file. */
  readonly path: string;
  readonly #dir: string;
  readonly #memory: ChunkStore;
  readonly #fsync: FsyncMode;
  readonly #log: (message: string) => void;
  readonly #onSync: ((seconds: number) => void) | undefined;
  readonly #lock: Deno.FsFile;
  #compactMinPoints: number;
  #file: Deno.FsFile;
  /** Bytes this store wrote to the file: its size, unless someone else wrote. */
  #bytes: number;
  /** When the file was last checked (`performance.now()`). */
  #checkedAt = -Infinity;
  /** Points in the log file, overwritten ones included. */
  #logPoints: number;
  /** Puts taken but not yet written, for the next commit. */
  #frame = new FrameWriter();
  /** The queued commit that will write `#frame`; one for many batches. */
  #commit: Promise<void> | undefined;
  /** File work runs one task at a time, in this chain. */
  #tail: Promise<void> = Promise.resolve();
  /**
   * Set when a write failed: the log may end in a torn frame, so nothing
   * is appended until a fresh log is written; puts are refused meanwhile.
   */
  #failure: Error | undefined;
  readonly #retryTimer: ReturnType<typeof setInterval>;
  #compacting = false;
  #unsynced = false;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    dir: string,
    lock: Deno.FsFile,
    file: Deno.FsFile,
    memory: ChunkStore,
    scan: LogScan,
    options: LogStoreOptions,
  ) {
    this.#dir = dir;
    this.path = `${dir}/${LOG_NAME}`;
    this.#lock = lock;
    this.#file = file;
    this.#memory = memory;
    this.#logPoints = scan.pointCount;
    this.#bytes = scan.fileBytes;
    this.#fsync = options.fsync ?? "batch";
    this.#compactMinPoints = options.compactMinPoints ?? 100_000;
    this.#log = options.log ?? console.error;
    this.#onSync = options.onSync;
    this.#retryTimer = setInterval(
      () => this.#retry(),
      (options.retryInterval ?? 1) * 1000,
    );
    if (this.#fsync === "interval") {
      this.#timer = setInterval(
        () => this.#syncIfNeeded(),
        options.fsyncInterval ?? 1000,
      );
    }
  }

  /**
   * Locks `dir`, opens (or creates) the log in it and replays it into
   * memory. A damaged log is copied aside (`metrics.log.damaged-<time>`)
   * and every good frame in it replayed; then a torn tail is cut off, or a
   * log damaged in the middle is rewritten from memory. The log is
   * compacted at once if it is due.
   *
   * @throws {Error} when another server uses `dir`, the directory cannot
   * be used, or `metrics.log` in it is not a metrics log.
   */
  static async open(
    dir: string,
    options: LogStoreOptions = {},
  ): Promise<LogStore> {
    const log = options.log ?? console.error;
    const path = `${dir}/${LOG_NAME}`;
    await Deno.mkdir(dir, { recursive: true });
    const lock = await lockDirectory(dir);
    let file: Deno.FsFile | undefined;
    try {
      await Deno.remove(`${path}.compact`).catch(ignoreNotFound);
      const { maxKeys, maxPoints } = options;
      const memory = new ChunkStore({ maxKeys, maxPoints, keepSealed: false });
      file = await Deno.open(path, { read: true, append: true, create: true });
      const { scan, rewrite } = await replay(dir, path, file, memory, log);
      const store = new LogStore(dir, lock, file, memory, scan, options);
      if (rewrite) {
        try {
          await store.#serially(() => store.#rewrite());
        } catch (error) {
          await store.close().catch(() => {});
          throw error;
        }
      }
      store.#compactIfDue();
      return store;
    } catch (error) {
      file?.close();
      lock.close();
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
    if (this.#closing) {
      return Promise.reject(new Error("the log store is closed"));
    }
    if (this.#failure !== undefined) {
      return Promise.reject(new StorageRefusal(reasonOf(this.#failure)));
    }
    this.#memory.put(points);
    this.#frame.appendPoints(points);
    // A failed write is a refusal with a reason, not a broken connection.
    return this.#commit ??= this.#serially(() => this.#write()).catch(
      (error) => {
        throw new StorageRefusal(reasonOf(error), { cause: error });
      },
    );
  }

  /** Why `point` is refused: the log cannot be written, or a cap is reached. */
  refusal(point: StoredPoint): string | undefined {
    if (this.#failure !== undefined) return reasonOf(this.#failure);
    return this.#memory.refusal(point);
  }

  /** The points of `key`, or `undefined`. */
  get(key: string): Series | undefined {
    return this.#memory.get(key);
  }

  /** The points of `key` from `from` to `to` (inclusive), from memory. */
  getRange(key: string, from: number, to: number): Series | undefined {
    return this.#memory.getRange(key, from, to);
  }

  /** Every key's points, in first-seen key order. */
  getAll(): Iterable<Series> {
    return this.#memory.getAll();
  }

  /** Keys and points held. */
  size(): StorageSize {
    return this.#memory.size();
  }

  /** Deletes points older than `before`; a compaction drops them from the log. */
  expire(before: number): number {
    const gone = this.#memory.expire(before);
    this.#compactIfDue();
    return gone;
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
    clearInterval(this.#retryTimer);
    try {
      // A last chance for a failed log, and a last check that it is ours.
      if (this.#failure !== undefined) {
        await this.#serially(() => this.#rewrite(), true);
      }
      this.#checkedAt = -Infinity;
      await this.#serially(async () => {
        await this.#watch();
        await this.#sync(this.#file);
      });
    } finally {
      this.#file.close();
      this.#lock.close();
    }
  }

  /**
   * Runs `task` after every task queued before it. A failed task leaves
   * the log possibly ending in a torn frame, after which appended frames
   * would never be replayed: so every later task fails too, until a fresh
   * log is written (a task run with `evenIfFailed`).
   */
  #serially(
    task: () => Promise<void>,
    evenIfFailed = false,
  ): Promise<void> {
    const run = this.#tail.then(() => {
      if (this.#failure && !evenIfFailed) throw this.#failure;
      return task();
    });
    this.#tail = run.catch((error) => {
      if (this.#failure === undefined) {
        this.#log(
          `error: cannot write ${this.path}; refusing puts until it can be written again: ${error}`,
        );
      }
      this.#failure ??= error instanceof Error ? error : new Error(`${error}`);
    });
    return run;
  }

  /** After a failure: tries to write a fresh log, and takes puts again. */
  #retry(): void {
    if (this.#failure === undefined || this.#closing) return;
    this.#serially(async () => {
      await this.#rewrite();
      this.#failure = undefined;
      this.#log(`${this.path} is written again; taking puts`);
    }, true).catch(() => {});
  }

  /**
   * Notices (at most every {@link WATCH_MS} ms) that the file at the path
   * is no longer the log this store writes: deleted, truncated, replaced or
   * written by someone else. Then writes a fresh log from memory, which
   * holds every acknowledged point, keeping a copy of any foreign bytes.
   */
  async #watch(): Promise<void> {
    const now = performance.now();
    if (now - this.#checkedAt < WATCH_MS) return;
    this.#checkedAt = now;
    let problem: string | undefined;
    let foreign = false;
    try {
      const [onDisk, open] = await Promise.all([
        Deno.stat(this.path),
        this.#file.stat(),
      ]);
      if (onDisk.ino !== open.ino || onDisk.dev !== open.dev) {
        problem = "was replaced by another file";
        foreign = true;
      } else if (onDisk.size < this.#bytes) {
        problem = `was truncated to ${onDisk.size} of ${this.#bytes} bytes`;
      } else if (onDisk.size > this.#bytes) {
        problem = `grew by ${onDisk.size - this.#bytes} bytes not written here`;
        foreign = true;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      problem = "was deleted";
    }
    if (problem === undefined) return;
    const copy = foreign ? await copyAside(this.path, "replaced") : undefined;
    this.#log(
      `warning: ${this.path} ${problem} while in use; writing a fresh log from memory${
        copy === undefined ? "" : ` (the file found is kept as ${copy})`
      }`,
    );
    await this.#rewrite();
  }

  async #write(): Promise<void> {
    this.#commit = undefined;
    await this.#watch();
    const points = this.#frame.pointCount;
    const frame = this.#frame.take();
    await writeAll(this.#file, frame);
    this.#bytes += frame.length;
    this.#logPoints += points;
    if (this.#fsync === "batch") await this.#sync(this.#file);
    else this.#unsynced = true;
    this.#compactIfDue();
  }

  /** Forces `file` to disk, timing it for `onSync`. */
  async #sync(file: Deno.FsFile): Promise<void> {
    const started = performance.now();
    await file.syncData();
    this.#onSync?.((performance.now() - started) / 1000);
  }

  #syncIfNeeded(): void {
    if (!this.#unsynced || this.#closing) return;
    this.#unsynced = false;
    this.#serially(() => this.#sync(this.#file)).catch((error) =>
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

  /** Rewrites the log from memory once it holds mostly overwritten points. */
  async #compact(): Promise<void> {
    const started = performance.now();
    const before = this.#logPoints;
    try {
      await this.#rewrite();
    } catch (error) {
      // The old log is intact; try again only once it has doubled.
      this.#compactMinPoints = 2 * this.#logPoints;
      this.#log(`warning: cannot compact ${this.path}, keeping it: ${error}`);
      return;
    } finally {
      this.#compacting = false;
    }
    this.#log(
      `compacted ${this.path}: ${before} puts to ${this.#logPoints} points in ${
        Math.round(performance.now() - started)
      } ms`,
    );
  }

  /**
   * Writes a fresh log from memory: a temporary file, fsync, rename over
   * the log, fsync the directory; then appends go to it. Puts that land
   * while the snapshot is written are appended to the new log after it, so
   * its replay ends in the live state whatever the snapshot caught of them.
   * On failure the current log is left as it was.
   */
  async #rewrite(): Promise<void> {
    const temp = `${this.path}.compact`;
    let file: Deno.FsFile | undefined;
    let written: number;
    try {
      file = await Deno.open(temp, { append: true, create: true });
      await file.truncate(0);
      await writeAll(file, MAGIC);
      written = await writeSnapshot(file, this.#memory.getAll());
      await file.syncData();
      await Deno.rename(temp, this.path);
    } catch (error) {
      // Remove the temporary file only if it is ours.
      if (file !== undefined) {
        file.close();
        await Deno.remove(temp).catch(() => {});
      }
      throw error;
    }
    this.#file.close();
    this.#file = file;
    this.#bytes = (await file.stat()).size;
    this.#logPoints = written;
    this.#checkedAt = performance.now();
    await syncDirectory(this.#dir);
  }
}

/** What a refused put is told while the log cannot be written. */
function reasonOf(error: unknown): string {
  return /No space left|os error 28|quota/i.test(`${error}`)
    ? "storage full"
    : "storage unavailable";
}
