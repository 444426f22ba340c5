/**
 * The storage engine's durable {@link Storage}: a {@link ChunkedMemory}
 * (heads and sealed chunks) made durable by a WAL and checkpoints.
 *
 * Every batch is upserted into memory and appended to the current WAL
 * file before it is acknowledged, exactly as the log store does (the
 * shared `Commits`). A checkpoint cuts the WAL: appends move to a new WAL
 * file, the chunks sealed until then go into day segments and the heads
 * into `checkpoint.<n>`, and only then are the older WAL files deleted. A
 * clean close runs a checkpoint, so the next start replays nothing. A
 * directory of 0.2 (`metrics.log`) is converted when it is opened.
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
import { type CheckpointState, CheckpointWriter } from "./checkpoint.ts";
import { walDir } from "./files.ts";
import type { ChunkedMemory } from "./sealed.ts";
import { loadDirectory } from "./startup.ts";
import { createWal } from "./wal.ts";
import { retireLegacy } from "./migration.ts";
import { writeAll } from "../../../internal/write_all.ts";

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
  /** The WAL file appended to, and its number. */
  #file: Deno.FsFile;
  #wal: number;
  /** Points appended to the current WAL file. */
  #walPoints = 0;
  /** The checkpoint being written, if one is. */
  #checkpoint: Promise<void> | undefined;
  /** Set after a checkpoint failed: warn once until one succeeds. */
  #checkpointFailed = false;
  readonly #damaged: number;
  #closing: Promise<void> | undefined;

  private constructor(
    dir: string,
    lock: Deno.FsFile,
    memory: ChunkedMemory,
    file: Deno.FsFile,
    loaded: { nextWal: number; nextSequence: number; damaged: number },
    options: EngineStoreOptions,
  ) {
    this.dir = dir;
    this.#lock = lock;
    this.#memory = memory;
    this.#file = file;
    this.#wal = loaded.nextWal;
    this.#damaged = loaded.damaged;
    this.#log = options.log ?? console.error;
    this.#checkpointPoints = options.checkpointPoints ?? 256_000;
    this.#writer = new CheckpointWriter(dir, loaded.nextSequence);
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
      const file = await createWal(dir, loaded.nextWal);
      const store = new EngineStore(dir, lock, memory, file, loaded, options);
      if (loaded.legacy !== undefined) {
        await store.#convert(loaded.legacy).catch((error) => {
          // No closing checkpoint: its segments would not be marked
          // converted, and the next start converts again from the log.
          store.#commits.stop();
          clearInterval(store.#timer);
          store.#closing = Promise.resolve();
          store.#file.close();
          throw error;
        });
      }
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
   * Stores the batch in memory at once and resolves when it is written to
   * the WAL (and forced to disk in `"batch"` mode).
   */
  put(points: readonly StoredPoint[]): Promise<void> {
    if (this.#closing) {
      return Promise.reject(new Error("the storage engine is closed"));
    }
    const refused = this.#commits.refusal();
    if (refused !== undefined) {
      return Promise.reject(new StorageRefusal(refused));
    }
    for (const { key, timestamp, value } of points) {
      this.#memory.upsert(key, timestamp, value);
    }
    return this.#commits.put(points);
  }

  /** Why `point` is refused now: the WAL cannot be written, or a cap. */
  refusal(point: StoredPoint): string | undefined {
    return this.#commits.refusal() ?? this.#memory.refusal(point);
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
   * Writes what is pending, then a checkpoint, so the next start replays
   * nothing. Rejects only if the WAL could not be written; a checkpoint
   * that fails leaves the WAL to cover everything. Safe to call more than
   * once.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#timer);
    try {
      await this.#checkpoint;
      await this.#commits.close(async () => {
        await this.#commits.sync();
        const state = await this.#cutOrWarn();
        if (state !== undefined) await this.#writeCheckpoint(state);
      });
    } finally {
      this.#file.close();
      this.#lock.close();
    }
  }

  async #append(frame: Uint8Array, points: number): Promise<void> {
    await writeAll(this.#file, frame);
    this.#walPoints += points;
    if (this.#walPoints >= this.#checkpointPoints) this.#startCheckpoint();
  }

  /** Starts a checkpoint unless one runs, the WAL failed, or the store closes. */
  #startCheckpoint(): void {
    if (this.#checkpoint || this.#closing || this.#commits.refusal()) return;
    const run = this.#commits.serially(() => this.#cutOrWarn()).then((
      state,
    ) => state === undefined ? undefined : this.#writeCheckpoint(state));
    this.#checkpoint = run.catch(() => {}).finally(() => {
      this.#checkpoint = undefined;
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

  /**
   * The WAL cut, run between two WAL writes: starts WAL file n + 1 and
   * takes the sealed chunks and heads as of that moment, synchronously.
   */
  async #cut(): Promise<CheckpointState> {
    const wal = this.#wal;
    const next = await createWal(this.dir, wal + 1);
    const state = {
      wal,
      sealed: this.#memory.takeSealed(),
      heads: headsInKeyOrder(this.#memory),
    };
    this.#file.close();
    this.#file = next;
    this.#wal = wal + 1;
    this.#walPoints = 0;
    return state;
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

/** Every key's head in first-seen key order, empty where all is sealed. */
function headsInKeyOrder(memory: ChunkedMemory): Series[] {
  const heads = new Map(memory.heads().map((head) => [head.key, head]));
  return Array.from(
    memory.keys(),
    (key) => heads.get(key) ?? { key, timestamps: [], values: [] },
  );
}
