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
 * Memory holds every acknowledged point, so a file touched under the
 * store (`watch.ts`) is made good from it: a changed WAL file by a
 * checkpoint, a changed segment or checkpoint by rewriting everything
 * (`file_checks.ts`). After each checkpoint, the segments of each due
 * UTC day are merged into one (`compaction/`).
 *
 * @module
 */

import { Commits } from "../log/commits.ts";
import { lockDirectory } from "../log/files.ts";
import {
  type PointBatch,
  type Series,
  type Storage,
  StorageRefusal,
  type StorageSize,
  type StoredPoint,
} from "../storage.ts";
import {
  checkpointHeads,
  type CheckpointState,
  CheckpointWriter,
} from "./checkpoint.ts";
import { PointColumns } from "../point_columns.ts";
import { walDir } from "./files.ts";
import { type ChunkedMemory, DAY_SECONDS } from "./sealed.ts";
import { dayOf } from "./merge.ts";
import { loadDirectory, type Loaded } from "./startup.ts";
import { WalFile } from "./wal.ts";
import { convertLegacy } from "./migration.ts";
import { reportChange, WatchedFiles } from "./watch.ts";
import { FileChecks } from "./file_checks.ts";
import { Compactor } from "./compaction/compactor.ts";
import { Deletions } from "./deletions.ts";
import type { EngineStoreOptions } from "./store_options.ts";
import { RepeatedFailure } from "../../../internal/warn_once.ts";
export type { EngineStoreOptions } from "./store_options.ts";

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
  /** The wall clock (Unix seconds) by which a UTC day is over. */
  readonly #clock: () => number;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #watchTimer: ReturnType<typeof setInterval>;
  readonly #watched: WatchedFiles;
  readonly #checks: FileChecks;
  /** Merges each due day's segments into one (`compaction/`). */
  readonly #compactor: Compactor;
  /** The WAL file appended to. */
  #wal: WalFile;
  /** Points appended to the WAL files since the last checkpoint's cut. */
  #walPoints = 0;
  /** The checkpoint being written, if one is. */
  #checkpoint: Promise<void> | undefined;
  /** A failing checkpoint is warned about once, until one succeeds. */
  readonly #checkpointFailure: RepeatedFailure;
  readonly #damaged: number;
  /** What a retention and the disk budget delete (`deletions.ts`). */
  readonly #deletions: Deletions;
  #closing: Promise<void> | undefined;

  private constructor(
    dir: string,
    lock: Deno.FsFile,
    memory: ChunkedMemory,
    wal: WalFile,
    loaded: Loaded,
    watched: WatchedFiles,
    options: EngineStoreOptions,
  ) {
    this.dir = dir;
    this.#lock = lock;
    this.#memory = memory;
    this.#wal = wal;
    this.#damaged = loaded.damaged;
    this.#watched = watched;
    this.#log = options.log ?? console.error;
    this.#checkpointFailure = new RepeatedFailure(this.#log);
    this.#checkpointPoints = options.checkpointPoints ?? 256_000;
    this.#clock = options.compactionClock ?? (() => Date.now() / 1000);
    this.#writer = new CheckpointWriter(dir, loaded, watched);
    this.#deletions = new Deletions({
      dir,
      memory,
      writer: this.#writer,
      log: this.#log,
      cutWal: () => this.#cutWalKeepingOld(),
      serially: (task) => this.#commits.serially(task),
      closing: () => this.#closing !== undefined,
    }, options);
    this.#checks = new FileChecks({
      dir,
      writer: this.#writer,
      watched,
      log: this.#log,
      memory,
      cutWal: async () => {
        this.#walPoints = 0;
        return await this.#cutWal();
      },
      serially: (task) => this.#commits.serially(task),
      paused: () => this.#closing !== undefined || !!this.#commits.refusal(),
    });
    this.#compactor = new Compactor({
      dir,
      writer: this.#writer,
      watched,
      memory,
      log: this.#log,
      now: this.#clock,
      quietMs: options.compactionQuietMs ?? 10_000,
    });
    this.#commits = new Commits({
      path: walDir(dir), // the WAL file changes at each checkpoint
      append: (frame, points) => this.#append(frame, points),
      sync: () => this.#wal.sync(),
      recover: () => this.#recover(),
    }, options);
    this.#timer = setInterval(
      () => this.#startCheckpoint(),
      (options.checkpointInterval ?? 600) * 1000,
    );
    this.#watchTimer = setInterval(
      () => this.#checks.start(),
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
      const wal = await WalFile.create(dir, loaded.nextWal);
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
        await convertLegacy(
          loaded.legacy,
          () => store.#commits.serially(() => store.#cut()),
          store.#writer,
          log,
        ).catch((error) => {
          // No closing checkpoint: its segments would not be marked
          // converted, and the next start converts again from the log.
          store.#commits.stop();
          store.#stopTimers();
          store.#closing = Promise.resolve();
          store.#wal.close();
          throw error;
        });
      }
      if (await store.#deletions.enforce()) store.#startCheckpoint();
      store.#compactor.start();
      return store;
    } catch (error) {
      memory.close();
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

  /** The oldest timestamp kept since the disk budget deleted a day, if it did. */
  get oldestKept(): number | undefined {
    return this.#deletions.oldestKept;
  }

  /** UTC days whose segments were merged into one since the store opened. */
  get compactions(): number {
    return this.#compactor.compactions;
  }

  /** UTC days due for a compaction now (`compaction/plan.ts`). */
  get compactionsDue(): number {
    return this.#compactor.due;
  }

  /**
   * Compacts every due day now (one runs after each checkpoint anyway);
   * resolves when none is left to try.
   */
  compact(): Promise<void> {
    return this.#compactor.start();
  }

  /**
   * Stores the batch in memory at once and resolves when it is written to
   * the WAL (and forced to disk in `"batch"` mode).
   */
  put(points: readonly StoredPoint[]): Promise<void> {
    return this.putColumns(PointColumns.of(points));
  }

  /** {@link EngineStore.put} for a batch in columns, copied at once. */
  putColumns(batch: PointBatch): Promise<void> {
    if (this.#closing) {
      return Promise.reject(new Error("the storage engine is closed"));
    }
    const refused = this.#commits.refusal() ?? this.#deletions.refusal;
    if (refused !== undefined) {
      return Promise.reject(new StorageRefusal(refused));
    }
    this.#memory.putColumns(batch);
    return this.#commits.put(batch);
  }

  /** Why `point` is refused now: the WAL cannot be written, the disk budget is spent, or a cap. */
  refusal(point: StoredPoint): string | undefined {
    return this.#commits.refusal() ?? this.#deletions.refusal ??
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
  expire(before: number): Promise<number> {
    return this.#deletions.expire(before);
  }

  /** Starts WAL file n + 1 and returns n, still watched until a checkpoint deletes it. */
  async #cutWalKeepingOld(): Promise<number> {
    const { path, identity } = this.#wal;
    const wal = await this.#cutWal();
    this.#watched.set(path, identity);
    return wal;
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
      await this.#checks.running;
      await this.#compactor.stop();
      await this.#commits.close(async () => {
        await this.#commits.sync();
        // A last check that every file is as written.
        await this.#watchWal(true);
        if (await this.#checks.check((cut) => cut())) return;
        const state = await this.#cutOrWarn(true);
        if (state !== undefined) await this.#writeCheckpoint(state);
      });
    } finally {
      this.#memory.close();
      this.#wal.close();
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
    await this.#wal.append(frame);
    this.#walPoints += points;
    if (this.#walPoints >= this.#checkpointPoints) this.#startCheckpoint();
  }

  /**
   * Notices that the current WAL file was touched (`WalFile.change`), and
   * then runs a checkpoint, which makes memory durable without it and
   * starts a new WAL file. Runs between WAL writes.
   */
  async #watchWal(now = false): Promise<void> {
    const change = this.#wal.change(now);
    if (change === undefined) return;
    await reportChange(change, "running a checkpoint from memory", this.#log);
    await this.#recover();
  }

  /**
   * Starts a checkpoint unless one runs, the WAL failed, or the store
   * closes; then holds the disk budget, and after a deletion runs another
   * checkpoint, written without the deleted points.
   */
  #startCheckpoint(): void {
    if (this.#checkpoint || this.#closing || this.#commits.refusal()) return;
    const run = this.#commits.serially(() => this.#cutOrWarn()).then((
      state,
    ) => state === undefined ? undefined : this.#writeCheckpoint(state))
      .then(() => this.#deletions.enforce());
    this.#checkpoint = run.catch(() => false).then((deleted) => {
      this.#checkpoint = undefined;
      if (deleted) this.#startCheckpoint();
      else this.#compactor.start();
    });
  }

  /**
   * A WAL cut after forcing the current file to disk (files are to rely on
   * it), or `undefined` and a warning when that fails: appends then go on
   * where they were.
   */
  async #cutOrWarn(
    closing = false,
  ): Promise<CheckpointState | undefined> {
    try {
      await this.#wal.sync();
      return await this.#cut(closing);
    } catch (error) {
      this.#checkpointFailed(error);
      return undefined;
    }
  }

  /** Starts WAL file n + 1, run between two WAL writes, and returns n. */
  async #cutWal(): Promise<number> {
    const next = await WalFile.create(this.dir, this.#wal.n + 1);
    this.#wal.close();
    this.#wal = next;
    return next.n - 1;
  }

  /**
   * The WAL cut of a checkpoint, run between two WAL writes: starts WAL
   * file n + 1 and takes the sealed chunks and heads as of that moment.
   * `closing`: the heads of days that are over are sealed first
   * (`ChunkedMemory.sealEndedDays`), so the store stops with them in
   * segments, where a compaction takes them into the days' chunks.
   */
  async #cut(closing = false): Promise<CheckpointState> {
    const wal = await this.#cutWal();
    this.#walPoints = 0;
    if (closing) this.#memory.sealEndedDays(dayOf(this.#clock()) * DAY_SECONDS);
    return {
      wal,
      sealed: this.#memory.takeSealed(),
      heads: checkpointHeads(this.#memory, closing),
    };
  }

  /** Writes a checkpoint's files; a failure is warned about once. */
  async #writeCheckpoint(state: CheckpointState): Promise<void> {
    try {
      await this.#writer.write(state);
    } catch (error) {
      this.#checkpointFailed(error);
      return;
    }
    this.#checkpointFailure.worked(() =>
      `checkpoint ${state.wal} of ${this.dir} is written again`
    );
  }

  #checkpointFailed(error: unknown): void {
    this.#checkpointFailure.failed(() =>
      `warning: cannot write a checkpoint in ${this.dir}; the WAL keeps every point, retrying at the next checkpoint: ${error}`
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
