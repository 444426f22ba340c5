/**
 * The storage engine's write path: batches of puts become log frames
 * (`format.ts`), written one task at a time, forced to disk per the fsync
 * mode, and acknowledged only then. A failed write refuses puts until the
 * store has written a fresh durable state from memory.
 *
 * @module
 */

import { FrameWriter } from "./format.ts";
import { type PointBatch, StorageRefusal } from "../storage.ts";

/**
 * When the write-ahead log is forced to disk.
 * - `"batch"`: before each batch is acknowledged; an acknowledged put
 *   survives a crash of the machine (power loss).
 * - `"interval"`: every `fsyncInterval` (`serve`: seconds); a put is acknowledged once
 *   written to the operating system, so it survives a crash (`kill -9`) of
 *   the process, and a power loss may lose the last interval.
 */
export type FsyncMode = "batch" | "interval";

/** Options of the write path. */
export interface CommitOptions {
  /**
   * When the write-ahead log is forced to disk; see {@link FsyncMode}.
   * @default {"batch"}
   */
  fsync?: FsyncMode;
  /**
   * Milliseconds between forced writes in `"interval"` mode.
   * @default {1000}
   */
  fsyncInterval?: number;
  /**
   * Seconds between attempts to write a fresh state after a write failed;
   * puts are refused (`storage full`) until one succeeds.
   * @default {1}
   */
  retryInterval?: number;
  /**
   * Receives diagnostics: replay summary, damaged files, failures.
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

/** What a store does for its {@link Commits}. */
export interface CommitTarget {
  /** The file named in failure messages. */
  readonly path: string;
  /** Appends one frame of `points` points to the log. */
  append(frame: Uint8Array, points: number): Promise<void>;
  /** Forces the log to disk. */
  sync(): Promise<void>;
  /**
   * Makes everything in memory durable anew (a checkpoint),
   * so appends can go on after a failed write.
   */
  recover(): Promise<void>;
}

/** Batches, serial file work, fsync modes and failure recovery. */
export class Commits {
  readonly #target: CommitTarget;
  readonly #fsync: FsyncMode;
  readonly #log: (message: string) => void;
  readonly #onSync: ((seconds: number) => void) | undefined;
  /** Puts taken but not yet written, for the next commit. */
  #frame = new FrameWriter();
  /** The queued commit that will write `#frame`; one for many batches. */
  #commit: Promise<void> | undefined;
  /** File work runs one task at a time, in this chain. */
  #tail: Promise<void> = Promise.resolve();
  /**
   * Set when a write failed: the log may end in a torn frame, so nothing
   * is appended until a fresh state is written; puts are refused meanwhile.
   */
  #failure: Error | undefined;
  #unsynced = false;
  #closed = false;
  readonly #retryTimer: ReturnType<typeof setInterval>;
  readonly #syncTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * Starts the timers of `options` for `target`.
   * @param target The store's file operations.
   * @param options Fsync mode, intervals, diagnostics.
   */
  constructor(target: CommitTarget, options: CommitOptions) {
    this.#target = target;
    this.#fsync = options.fsync ?? "batch";
    this.#log = options.log ?? console.error;
    this.#onSync = options.onSync;
    this.#retryTimer = setInterval(
      () => this.#retry(),
      (options.retryInterval ?? 1) * 1000,
    );
    if (this.#fsync === "interval") {
      this.#syncTimer = setInterval(
        () => this.#syncIfNeeded(),
        options.fsyncInterval ?? 1000,
      );
    }
  }

  /** Why puts are refused now, or `undefined` while the log can be written. */
  refusal(): string | undefined {
    return this.#failure === undefined ? undefined : reasonOf(this.#failure);
  }

  /**
   * Adds a batch (already in memory) to the next frame and resolves once
   * that frame is written, and forced to disk in `"batch"` mode. Batches
   * arriving while a write runs share the next write and fsync.
   */
  put(batch: PointBatch): Promise<void> {
    this.#frame.appendPoints(batch);
    // A failed write is a refusal with a reason, not a broken connection.
    return this.#commit ??= this.serially(() => this.#write()).catch(
      (error) => {
        throw new StorageRefusal(reasonOf(error), { cause: error });
      },
    );
  }

  /**
   * Runs `task` after every task queued before it. A failed task leaves
   * the log possibly ending in a torn frame, after which appended frames
   * would never be replayed: so every later task fails too, until a fresh
   * state is written (a task run with `evenIfFailed`).
   */
  serially<T>(task: () => Promise<T>, evenIfFailed = false): Promise<T> {
    const run = this.#tail.then(() => {
      if (this.#failure && !evenIfFailed) throw this.#failure;
      return task();
    });
    this.#tail = run.then(() => {}, (error) => {
      if (this.#failure === undefined) {
        this.#log(
          `error: cannot write ${this.#target.path}; refusing puts until it can be written again: ${error}`,
        );
      }
      this.#failure ??= error instanceof Error ? error : new Error(`${error}`);
    });
    return run;
  }

  /** Forces the log to disk, timing it for `onSync`. */
  async sync(): Promise<void> {
    const started = performance.now();
    await this.#target.sync();
    this.#unsynced = false;
    this.#onSync?.((performance.now() - started) / 1000);
  }

  /**
   * Stops the timers, gives a failed log a last chance, then runs `last`
   * (a final check, fsync or checkpoint) after every queued write.
   */
  async close(last: () => Promise<void>): Promise<void> {
    this.stop();
    if (this.#failure !== undefined) {
      await this.serially(() => this.#target.recover(), true);
      this.#failure = undefined; // the fresh state is written
    }
    await this.serially(last);
  }

  /** Stops the timers: no more retries or interval fsyncs. */
  stop(): void {
    this.#closed = true;
    clearInterval(this.#syncTimer);
    clearInterval(this.#retryTimer);
  }

  /** After a failure: tries to write a fresh state, and takes puts again. */
  #retry(): void {
    if (this.#failure === undefined || this.#closed) return;
    this.serially(async () => {
      await this.#target.recover();
      this.#failure = undefined;
      this.#log(`${this.#target.path} is written again; taking puts`);
    }, true).catch(() => {});
  }

  async #write(): Promise<void> {
    this.#commit = undefined;
    const points = this.#frame.pointCount;
    // A view until the next take: that is a later #write, run (serially)
    // only once this append ended.
    await this.#target.append(this.#frame.take(), points);
    if (this.#fsync === "batch") await this.sync();
    else this.#unsynced = true;
    // No put came meanwhile: the burst's frame buffers are not kept.
    if (this.#commit === undefined) this.#frame.release();
  }

  #syncIfNeeded(): void {
    if (!this.#unsynced || this.#closed) return;
    this.#unsynced = false;
    this.serially(() => this.sync()).catch((error) =>
      this.#log(`error: cannot fsync ${this.#target.path}: ${error}`)
    );
  }
}

/** What a refused put is told while the log cannot be written. */
function reasonOf(error: unknown): string {
  return /No space left|os error 28|quota/i.test(`${error}`)
    ? "storage full"
    : "storage unavailable";
}
