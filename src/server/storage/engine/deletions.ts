/**
 * Deleting points of the storage engine for good: what a retention
 * expires ({@link Deletions.expire}) and the oldest days past a disk
 * budget (`disk_budget.ts`). Points leave memory at once; then the WAL is
 * cut and the expiry mark written (`expiry.ts`), which deletes the
 * segments whose chunks all went and keeps the points deleted across a
 * restart.
 *
 * @module
 */

import type { CheckpointWriter } from "./checkpoint.ts";
import { DiskBudget } from "./disk_budget.ts";
import type { ChunkedMemory } from "./sealed.ts";
import type { EngineStoreOptions } from "./store_options.ts";

/** What {@link Deletions} works on. */
export interface DeletionTarget {
  /** The data directory. */
  readonly dir: string;
  /** The points in memory. */
  readonly memory: ChunkedMemory;
  /** The writer of segments, checkpoints and the expiry mark. */
  readonly writer: CheckpointWriter;
  /**
   * Starts a new WAL file; resolves with the number of the one before,
   * the last the mark covers. Run through `serially`.
   */
  cutWal(): Promise<number>;
  /** Runs `task` between two WAL writes. */
  serially<T>(task: () => Promise<T>): Promise<T>;
  /** Whether the store closes: nothing is written then. */
  closing(): boolean;
  /** Where warnings and the budget's steps are told. */
  log(message: string): void;
}

/** A store's deletions, and its disk budget if it has one. */
export class Deletions {
  readonly #target: DeletionTarget;
  readonly #budget: DiskBudget | undefined;

  /**
   * @param target The store's side.
   * @param options `maxDiskBytes`, the budget (none without it), and
   * `onSizeDeleted`, who hears each day it deletes.
   */
  constructor(
    target: DeletionTarget,
    { maxDiskBytes, onSizeDeleted }: EngineStoreOptions,
  ) {
    this.#target = target;
    this.#budget = maxDiskBytes === undefined
      ? undefined
      : new DiskBudget(target.dir, maxDiskBytes, {
        deleteBefore: (before) => this.#deleteBefore(before),
        onDeleted: onSizeDeleted ?? (() => {}),
        log: target.log,
        stopped: target.closing,
      });
  }

  /** `storage full` while the disk budget is spent by what it may not delete. */
  get refusal(): string | undefined {
    return this.#budget?.refusal;
  }

  /** The oldest timestamp kept since the disk budget deleted a day, if it did. */
  get oldestKept(): number | undefined {
    return this.#budget?.oldestKept;
  }

  /**
   * Deletes points older than `before`, whole chunks at a time (see
   * {@link ChunkedMemory.expire}), and returns how many went once the
   * deletion is on disk.
   *
   * @throws {Error} when the mark cannot be written: the points are gone
   * from memory, and a restart before the next deletion brings them back.
   */
  async expire(before: number): Promise<number> {
    const gone = this.#target.memory.expire(before);
    if (gone === 0 || this.#target.closing()) return gone;
    await this.#mark(before);
    // Room made while the budget refuses puts: they may be taken again.
    if (this.refusal !== undefined) await this.enforce();
    return gone;
  }

  /**
   * Holds the files to the disk budget, if there is one; a failure is
   * warned about, and the next call tries again. Returns whether a day
   * was deleted.
   */
  enforce(): Promise<boolean> {
    if (this.#budget === undefined) return Promise.resolve(false);
    return this.#budget.enforce().catch((error) => {
      this.#target.log(
        `warning: cannot delete the oldest days of ${this.#target.dir} for its disk budget; retrying after the next checkpoint: ${error}`,
      );
      return false;
    });
  }

  /**
   * A step of the disk budget: deletes every point before `before` as
   * {@link Deletions.expire} does, the segments they were in though
   * memory held none of them, and the points put since into what an
   * earlier deletion reached past (the oldest of all). Returns the points
   * deleted from memory, the time they were older than, and the promise
   * of the deletion on disk.
   */
  #deleteBefore(
    before: number,
  ): { points: number; before: number; onDisk: Promise<void> } {
    const { memory, writer } = this.#target;
    const cut = Math.max(before, writer.expiredBefore);
    const points = memory.expire(cut);
    return { points, before: cut, onDisk: this.#mark(cut, true) };
  }

  /**
   * Cuts the WAL and writes the expiry mark for `before`, which deletes
   * the segments whose chunks are all before it (`again`: see
   * {@link CheckpointWriter.expire}).
   */
  async #mark(before: number, again = false): Promise<void> {
    // Caught inside: a WAL file that cannot be made here is no reason to
    // refuse puts (a failed task would), which go on into the current one.
    const cut = await this.#target.serially(async () => {
      try {
        return { wal: await this.#target.cutWal() };
      } catch (error) {
        return { error };
      }
    });
    if ("error" in cut) throw cut.error;
    await this.#target.writer.expire(before, cut.wal, again);
  }
}
