/**
 * The storage engine's durable {@link Storage}: a {@link ChunkedMemory}
 * (heads and sealed chunks) made durable by a WAL and checkpoints.
 *
 * Every batch is upserted into memory and appended to the current WAL
 * file before it is acknowledged (the write path `Commits`). A checkpoint
 * cuts the WAL: appends move to a new WAL file, the chunks sealed until
 * then go into day segments and the heads into `checkpoint.<n>`, and only
 * then are the older WAL files deleted. A clean close runs a checkpoint,
 * so the next start replays nothing. A directory of 0.2 (`metrics.log`)
 * is converted when it is opened.
 *
 * With `maxDiskBytes`, the files are held to a disk budget
 * (`disk_budget.ts`), measured at open and after each checkpoint: past
 * it, the oldest days are deleted as a retention deletes them.
 *
 * Memory holds every acknowledged point, so a file touched under the
 * store (`watch.ts`) is made good from it: a changed WAL file by a
 * checkpoint, a changed segment or checkpoint by rewriting everything.
 *
 * @module
 */

import { type CommitOptions, Commits } from "../log/commits.ts";
import { lockDirectory } from "../log/files.ts";
import {
  type Series,
  type Storage,
  StorageRefusal,
  type StorageSize,
  type StoredPoint,
} from "../storage.ts";
import {
  type CheckpointState,
  CheckpointWriter,
  type RewriteState,
} from "./checkpoint.ts";
import { WAL_MAGIC, walDir, walPath } from "./files.ts";
import type { ChunkedMemory } from "./sealed.ts";
import { loadDirectory, type Loaded } from "./startup.ts";
import { createWal } from "./wal.ts";
import { retireLegacy } from "./migration.ts";
import {
  changeOf,
  type FileChange,
  type FileIdentity,
  WatchedFiles,
} from "./watch.ts";
import { copyAside } from "../log/files.ts";
import { DiskBudget } from "./disk_budget.ts";
import { writeAll } from "../../../internal/write_all.ts";

/** Least time between two checks that the current WAL file is still ours. */
const WAL_WATCH_MS = 5;

/** Options of {@link EngineStore.open}. */
export interface EngineStoreOptions extends CommitOptions {
  /**
   * Seconds between checkpoints.
   * @default {600}
   */
  checkpointInterval?: number;
  /**
   * A checkpoint also runs once the current WAL file holds this many
   * points, which bounds what a start after `kill -9` replays.
   * @default {256000}
   */
  checkpointPoints?: number;
  /**
   * Seconds between checks that the segments, the checkpoint and the WAL
   * files before the current one are as written (`watch.ts`).
   * @default {10}
   */
  watchInterval?: number;
  /**
   * Most disk space (bytes, in whole blocks as `du` counts them) the
   * segments and the checkpoint may take; the WAL comes on top, at most
   * about `checkpointPoints` puts. Past it the oldest days are deleted, a
   * day at a step, never the newest day's segments, the checkpoint or
   * the WAL; when the newest day and the checkpoint alone take more, puts
   * are refused `storage full`.
   * @default {undefined} no budget
   */
  maxDiskBytes?: number;
  /**
   * Hears each day the disk budget deletes: its points, and the oldest
   * timestamp kept since.
   * @default {undefined} nobody
   */
  onSizeDeleted?: (points: number, before: number) => void;
}

/** Keeps points in a {@link ChunkedMemory}, with segments, checkpoints and a WAL in a directory. */
export class EngineStore implements Storage {
  /** The data directory. */
  readonly dir: string;
  readonly #memory: ChunkedMemory;
  readonly #lock: Deno.FsFile;
  readonly #log: (message: string) => void;
  readonly #commits: Commits;
  readonly #writer: CheckpointWriter;
  readonly #checkpointPoints: number;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #watchTimer: ReturnType<typeof setInterval>;
  readonly #watched: WatchedFiles;
  /** The WAL file appended to, and its number. */
  #file: Deno.FsFile;
  #wal: number;
  /** The current WAL file's inode and the bytes written to it. */
  #walIdentity: FileIdentity;
  /** When the current WAL file was last checked (`performance.now()`). */
  #walCheckedAt = -Infinity;
  /** Points appended to the WAL files since the last checkpoint's cut. */
  #walPoints = 0;
  /** A file was touched under the store: everything is to be rewritten. */
  #rewriteDue = false;
  /** The check of the watched files, and its rewrite, while one runs. */
  #watching: Promise<void> | undefined;
  /** The checkpoint being written, if one is. */
  #checkpoint: Promise<void> | undefined;
  /** Set after a checkpoint failed: warn once until one succeeds. */
  #checkpointFailed = false;
  readonly #damaged: number;
  /** The disk budget, with `maxDiskBytes`. */
  readonly #budget: DiskBudget | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    dir: string,
    lock: Deno.FsFile,
    memory: ChunkedMemory,
    wal: { file: Deno.FsFile; identity: FileIdentity },
    loaded: Loaded,
    watched: WatchedFiles,
    options: EngineStoreOptions,
  ) {
    this.dir = dir;
    this.#lock = lock;
    this.#memory = memory;
    this.#file = wal.file;
    this.#walIdentity = wal.identity;
    this.#wal = loaded.nextWal;
    this.#damaged = loaded.damaged;
    this.#watched = watched;
    this.#log = options.log ?? console.error;
    this.#checkpointPoints = options.checkpointPoints ?? 256_000;
    this.#writer = new CheckpointWriter(dir, loaded, watched);
    if (options.maxDiskBytes !== undefined) {
      this.#budget = new DiskBudget(dir, options.maxDiskBytes, {
        deleteBefore: (before) => this.#deleteBefore(before),
        onDeleted: options.onSizeDeleted ?? (() => {}),
        log: this.#log,
        stopped: () => this.#closing !== undefined,
      });
    }
    this.#commits = new Commits({
      path: walDir(dir), // the WAL file changes at each checkpoint
      append: (frame, points) => this.#append(frame, points),
      sync: () => this.#file.syncData(),
      recover: () => this.#recover(),
    }, options);
    this.#timer = setInterval(
      () => this.#startCheckpoint(),
      (options.checkpointInterval ?? 600) * 1000,
    );
    this.#watchTimer = setInterval(
      () => this.#watchFiles(),
      (options.watchInterval ?? 10) * 1000,
    );
  }

  /**
   * Locks `dir`, reads its segments, newest checkpoint and WAL into
   * `memory` (an empty one), and starts a new WAL file.
   *
   * @throws {Error} when another server uses `dir` or it cannot be used.
   */
  static async open(
    dir: string,
    memory: ChunkedMemory,
    options: EngineStoreOptions = {},
  ): Promise<EngineStore> {
    const log = options.log ?? console.error;
    await Deno.mkdir(dir, { recursive: true });
    const lock = await lockDirectory(dir);
    try {
      const loaded = await loadDirectory(dir, memory, log);
      const watched = new WatchedFiles();
      for (const { path } of loaded.segments) await watched.add(path);
      for (const path of loaded.read) await watched.add(path);
      const wal = await openWal(dir, loaded.nextWal);
      const store = new EngineStore(
        dir,
        lock,
        memory,
        wal,
        loaded,
        watched,
        options,
      );
      if (loaded.legacy !== undefined) {
        await store.#convert(loaded.legacy).catch((error) => {
          // No closing checkpoint: its segments would not be marked
          // converted, and the next start converts again from the log.
          store.#commits.stop();
          store.#stopTimers();
          store.#closing = Promise.resolve();
          store.#file.close();
          throw error;
        });
      }
      if (await store.#enforceBudget()) store.#startCheckpoint();
      return store;
    } catch (error) {
      lock.close();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot open the metrics data in ${dir}: ${reason}`, {
        cause: error,
      });
    }
  }

  /** Chunks found damaged at start-up and skipped (for `/metrics`). */
  get damagedChunks(): number {
    return this.#damaged;
  }

  /**
   * The oldest timestamp kept since the disk budget deleted a day (the
   * end of the newest day it deleted), or `undefined` when it has not.
   */
  get oldestKept(): number | undefined {
    return this.#budget?.oldestKept;
  }

  /**
   * Stores the batch in memory at once and resolves when it is written to
   * the WAL (and forced to disk in `"batch"` mode).
   */
  put(points: readonly StoredPoint[]): Promise<void> {
    if (this.#closing) {
      return Promise.reject(new Error("the storage engine is closed"));
    }
    const refused = this.#commits.refusal() ?? this.#budget?.refusal;
    if (refused !== undefined) {
      return Promise.reject(new StorageRefusal(refused));
    }
    for (const { key, timestamp, value } of points) {
      this.#memory.upsert(key, timestamp, value);
    }
    return this.#commits.put(points);
  }

  /**
   * Why `point` is refused now: the WAL cannot be written, the disk
   * budget is spent, or a cap.
   */
  refusal(point: StoredPoint): string | undefined {
    return this.#commits.refusal() ?? this.#budget?.refusal ??
      this.#memory.refusal(point);
  }

  /** The points of `key`, or `undefined`. */
  get(key: string): Series | undefined {
    return this.#memory.get(key);
  }

  /** The points of `key` from `from` to `to` (inclusive). */
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

  /**
   * Deletes points older than `before`, whole chunks at a time (see
   * {@link ChunkedMemory.expire}), and returns how many went once the
   * deletion is on disk: the WAL is cut, the expiry mark written
   * (`expiry.ts`) and segments whose chunks all went are deleted, so
   * the deleted points stay deleted after a restart.
   *
   * @throws {Error} when the mark cannot be written: the points are gone
   * from memory, and a restart before the next deletion brings them back.
   */
  async expire(before: number): Promise<number> {
    const gone = this.#memory.expire(before);
    if (gone === 0 || this.#closing) return gone;
    await this.#markExpired(before);
    // Room made while the budget refuses puts: they may be taken again.
    if (this.#budget?.refusal !== undefined) await this.#enforceBudget();
    return gone;
  }

  /**
   * A step of the disk budget: deletes every point before `before` as
   * {@link EngineStore.expire} does, the segments they were in though
   * memory held none of them, and the points put since into what an
   * earlier deletion reached past (the oldest of all). Returns the points
   * deleted from memory, the time they were older than, and the promise
   * of the deletion on disk.
   */
  #deleteBefore(
    before: number,
  ): { points: number; before: number; onDisk: Promise<void> } {
    const cut = Math.max(before, this.#writer.expiredBefore);
    const points = this.#memory.expire(cut);
    return { points, before: cut, onDisk: this.#markExpired(cut, true) };
  }

  /**
   * Cuts the WAL and writes the expiry mark for `before`, which deletes
   * the segments whose chunks are all before it (`again`: see
   * {@link CheckpointWriter.expire}).
   */
  async #markExpired(before: number, again = false): Promise<void> {
    // Caught inside: a WAL file that cannot be made here is no reason to
    // refuse puts, which go on into the current one.
    const cut = await this.#commits.serially(async () => {
      const identity = this.#walIdentity;
      try {
        const wal = await this.#cutWal();
        // The file left holds puts until the next checkpoint deletes it.
        this.#watched.set(walPath(this.dir, wal), identity);
        return { wal };
      } catch (error) {
        return { error };
      }
    });
    if ("error" in cut) throw cut.error;
    await this.#writer.expire(before, cut.wal, again);
  }

  /**
   * Writes what is pending, then a checkpoint, so the next start replays
   * nothing. Rejects only if the WAL could not be written; a checkpoint
   * that fails leaves the WAL to cover everything. Safe to call more than
   * once.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#stopTimers();
    try {
      await this.#checkpoint;
      await this.#watching;
      await this.#commits.close(async () => {
        await this.#commits.sync();
        // A last check that every file is as written.
        this.#walCheckedAt = -Infinity;
        await this.#watchWal();
        await this.#noteChanges(await this.#writer.changes());
        if (this.#rewriteDue) {
          await this.#writer.rewrite(await this.#cutForRewrite());
          this.#rewriteDue = false;
          return;
        }
        const state = await this.#cutOrWarn();
        if (state !== undefined) await this.#writeCheckpoint(state);
      });
    } finally {
      this.#file.close();
      this.#lock.close();
    }
  }

  #stopTimers(): void {
    clearInterval(this.#timer);
    clearInterval(this.#watchTimer);
  }

  /** Appends a frame of `points` points, once the file is known to be ours. */
  async #append(frame: Uint8Array, points: number): Promise<void> {
    await this.#watchWal();
    await writeAll(this.#file, frame);
    this.#walIdentity = {
      ...this.#walIdentity,
      size: this.#walIdentity.size + frame.length,
    };
    this.#walPoints += points;
    if (this.#walPoints >= this.#checkpointPoints) this.#startCheckpoint();
  }

  /**
   * Notices (at most every {@link WAL_WATCH_MS} ms) that the current WAL
   * file was deleted, truncated, replaced or written by someone else, and
   * then runs a checkpoint, which makes memory durable without it and
   * starts a new WAL file. Runs between WAL writes.
   */
  async #watchWal(): Promise<void> {
    const now = performance.now();
    if (now - this.#walCheckedAt < WAL_WATCH_MS) return;
    this.#walCheckedAt = now;
    const change = await changeOf(
      walPath(this.dir, this.#wal),
      this.#walIdentity,
    );
    if (change === undefined) return;
    await this.#report(change, "running a checkpoint from memory");
    await this.#recover();
  }

  /**
   * Checks the watched files (every `watchInterval`), and rewrites
   * everything from memory after one changed, until a rewrite succeeds.
   */
  #watchFiles(): void {
    if (this.#watching || this.#closing || this.#commits.refusal()) return;
    this.#watching = (async () => {
      await this.#noteChanges(await this.#writer.changes());
      if (!this.#rewriteDue) return;
      const state = await this.#commits.serially(() => this.#cutForRewrite());
      await this.#writer.rewrite(state);
      this.#rewriteDue = false;
      this.#log(`rewrote every point of ${this.dir} from memory`);
    })().catch((error) => {
      this.#log(
        `warning: cannot rewrite ${this.dir} from memory; retrying at the next check: ${error}`,
      );
    }).finally(() => this.#watching = undefined);
  }

  /** Reports `changes` once each, and notes that a rewrite is due. */
  async #noteChanges(changes: readonly FileChange[]): Promise<void> {
    for (const change of changes) {
      await this.#report(change, "rewriting every point from memory");
    }
    this.#watched.delete(changes.map((change) => change.path));
    if (changes.length > 0) this.#rewriteDue = true;
  }

  /** Warns about `change`, keeping a copy of a file someone else wrote. */
  async #report(change: FileChange, action: string): Promise<void> {
    const copy = change.foreign
      ? await copyAside(change.path, "replaced")
      : undefined;
    this.#log(
      `warning: ${change.path} ${change.problem} while in use; ${action}${
        copy === undefined ? "" : ` (the file found is kept as ${copy})`
      }`,
    );
  }

  /**
   * Starts a checkpoint unless one runs, the WAL failed, or the store
   * closes; then holds the files to the disk budget. A step of the budget
   * is followed by another checkpoint, which writes the checkpoint and
   * the WAL without the points it deleted.
   */
  #startCheckpoint(): void {
    if (this.#checkpoint || this.#closing || this.#commits.refusal()) return;
    const run = this.#commits.serially(() => this.#cutOrWarn()).then((
      state,
    ) => state === undefined ? undefined : this.#writeCheckpoint(state))
      .then(() => this.#enforceBudget());
    this.#checkpoint = run.catch(() => false).then((deleted) => {
      this.#checkpoint = undefined;
      if (deleted) this.#startCheckpoint();
    });
  }

  /**
   * Holds the files to the disk budget, if there is one; a failure is
   * warned about, and the next checkpoint tries again. Returns whether a
   * day was deleted.
   */
  #enforceBudget(): Promise<boolean> {
    if (this.#budget === undefined) return Promise.resolve(false);
    return this.#budget.enforce().catch((error) => {
      this.#log(
        `warning: cannot delete the oldest days of ${this.dir} for its disk budget; retrying after the next checkpoint: ${error}`,
      );
      return false;
    });
  }

  /**
   * A WAL cut after forcing the current file to disk (files are to rely on
   * it), or `undefined` and a warning when that fails: appends then go on
   * where they were.
   */
  async #cutOrWarn(): Promise<CheckpointState | undefined> {
    try {
      await this.#file.syncData();
      return await this.#cut();
    } catch (error) {
      this.#checkpointFailure(error);
      return undefined;
    }
  }

  /** Starts WAL file n + 1, run between two WAL writes, and returns n. */
  async #cutWal(): Promise<number> {
    const wal = this.#wal;
    const next = await openWal(this.dir, wal + 1);
    this.#file.close();
    this.#file = next.file;
    this.#walIdentity = next.identity;
    this.#wal = wal + 1;
    return wal;
  }

  /**
   * The WAL cut of a checkpoint, run between two WAL writes: starts WAL
   * file n + 1 and takes the sealed chunks and heads as of that moment.
   */
  async #cut(): Promise<CheckpointState> {
    const wal = await this.#cutWal();
    this.#walPoints = 0;
    return {
      wal,
      sealed: this.#memory.takeSealed(),
      heads: headsInKeyOrder(this.#memory),
    };
  }

  /** The WAL cut of a rewrite of everything: the keys, the points read later. */
  async #cutForRewrite(): Promise<RewriteState> {
    const wal = await this.#cutWal();
    this.#walPoints = 0;
    // Every point is rewritten: the chunks sealed so far among them.
    this.#memory.takeSealed();
    return {
      wal,
      keys: Array.from(this.#memory.keys()),
      series: this.#memory.getAll(),
    };
  }

  /** Writes a checkpoint's files; a failure is warned about once. */
  async #writeCheckpoint(state: CheckpointState): Promise<void> {
    try {
      await this.#writer.write(state);
    } catch (error) {
      this.#checkpointFailure(error);
      return;
    }
    if (this.#checkpointFailed) {
      this.#log(`checkpoint ${state.wal} of ${this.dir} is written again`);
    }
    this.#checkpointFailed = false;
  }

  #checkpointFailure(error: unknown): void {
    if (!this.#checkpointFailed) {
      this.#log(
        `warning: cannot write a checkpoint in ${this.dir}; the WAL keeps every point, retrying at the next checkpoint: ${error}`,
      );
    }
    this.#checkpointFailed = true;
  }

  /**
   * Converts the 0.2 log at `path`, replayed into memory: a checkpoint
   * whose segments are marked `converted`, then the log renamed aside.
   */
  async #convert(path: string): Promise<void> {
    const state = await this.#commits.serially(() => this.#cut());
    await this.#writer.write(state, "converted");
    const kept = await retireLegacy(path);
    this.#log(
      `converted ${path} to segments; the 0.2 log is kept as ${kept}, to delete by hand`,
    );
  }

  /**
   * After a failed WAL write (the file may end in a torn frame): a
   * checkpoint that must succeed, so that memory is durable and appends go
   * to a fresh WAL file.
   */
  async #recover(): Promise<void> {
    await this.#writer.write(await this.#cut());
  }
}

/** Creates WAL file `n` in `dir`, with its identity for the watch. */
async function openWal(
  dir: string,
  n: number,
): Promise<{ file: Deno.FsFile; identity: FileIdentity }> {
  const file = await createWal(dir, n);
  try {
    const { ino, dev } = await file.stat();
    return { file, identity: { ino, dev, size: WAL_MAGIC.length } };
  } catch (error) {
    file.close();
    throw error;
  }
}

/** Every key's head in first-seen key order, empty where all is sealed. */
function headsInKeyOrder(memory: ChunkedMemory): Series[] {
  const heads = new Map(memory.heads().map((head) => [head.key, head]));
  return Array.from(
    memory.keys(),
    (key) => heads.get(key) ?? { key, timestamps: [], values: [] },
  );
}
