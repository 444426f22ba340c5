/**
 * The disk budget of the storage engine's directory (`maxDisk`): past it,
 * the oldest UTC days go, a whole day at a step.
 *
 * The budget counts the disk space of the segments, the checkpoint and
 * `*.tmp` files (not a compaction's output being written: at most one
 * day's, deleted or in place soon), in whole blocks as `du` does. Not the WAL: it holds the
 * puts since the last checkpoint (a bounded number of points), and
 * counting it would have its growth between two checkpoints delete
 * history. Nor copies kept aside (`*.damaged-*`, a 0.2 log). Past the
 * budget, one step deletes every point before the end of the oldest day
 * that has segments, as a retention would (the store's expiry mark keeps
 * them deleted across a restart), and steps go on, measuring again each
 * time, until the files fit. A step never deletes the newest day's
 * segments, the checkpoint or the WAL; when the newest day and the
 * checkpoint alone take more than the budget, nothing is deleted and puts
 * are refused `storage full` until a later check finds room. So a step
 * removes one day, never all history, and never recent points.
 *
 * @module
 */

import { formatSize } from "../../../internal/size.ts";
import { ignoreNotFound } from "../log/files.ts";
import {
  dayName,
  isCompactionTemp,
  isEngineFile,
  isWalFile,
  parseSegmentName,
  segmentsDir,
  walDir,
} from "./files.ts";
import { DAY_SECONDS } from "./sealed.ts";

/** The segment files of one UTC day. */
export interface DayFiles {
  /** The UTC day (`Math.floor(seconds / DAY_SECONDS)`). */
  readonly day: number;
  /** Bytes of its files. */
  readonly bytes: number;
  /** How many segment files it has. */
  readonly segments: number;
}

/** The bytes of the engine's files in a directory that a budget counts. */
export interface DiskUsage {
  /** The segments, the checkpoint and `*.tmp` files, in bytes. */
  readonly total: number;
  /** The segment files by day, oldest day first. */
  readonly days: readonly DayFiles[];
}

/** What the budget asks for next, from {@link budgetStep}. */
export type BudgetStep =
  /** The files fit in the budget. */
  | { readonly kind: "within" }
  /** Delete this day's segments, the oldest. */
  | { readonly kind: "delete"; readonly day: DayFiles }
  /** The newest day and the checkpoint alone take `kept` bytes, more than the budget. */
  | { readonly kind: "full"; readonly kept: number };

/**
 * The next step for files taking `usage` under a budget of `budget`
 * bytes: nothing while they fit; else the oldest day, unless the files no
 * step may delete (the newest day's segments, the checkpoint) alone take
 * more than the budget. Pure.
 */
export function budgetStep(usage: DiskUsage, budget: number): BudgetStep {
  if (usage.total <= budget) return { kind: "within" };
  const { days } = usage;
  const deletable = days.slice(0, -1).reduce((sum, d) => sum + d.bytes, 0);
  const kept = usage.total - deletable;
  return kept > budget || days.length < 2
    ? { kind: "full", kept }
    : { kind: "delete", day: days[0] };
}

/**
 * Measures the engine's files in a directory, as a budget counts them. A
 * segment never changes once in place, so each one's size is asked for
 * once.
 */
export class DiskUsageReader {
  readonly #dir: string;
  /** Sizes of the segments seen, by name. */
  #segments = new Map<string, number>();

  /** @param dir The data directory. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The files a budget counts now, segments grouped by day. */
  async read(): Promise<DiskUsage> {
    const known = this.#segments;
    const seen = new Map<string, number>();
    const days = new Map<number, { bytes: number; segments: number }>();
    let total = 0;
    const segments = segmentsDir(this.#dir);
    for await (const { name, isFile } of Deno.readDir(segments)) {
      // A compaction's output being written is not counted: the disk to
      // plan for is the budget plus at most one day's output.
      if (!isFile || !isEngineFile(name) || isCompactionTemp(name)) continue;
      const path = `${segments}/${name}`;
      const segment = parseSegmentName(name);
      const bytes = (segment && known.get(name)) ?? await sizeOf(path);
      if (bytes === undefined) continue; // gone meanwhile
      total += bytes;
      if (segment === undefined) continue; // a *.tmp
      seen.set(name, bytes);
      const day = days.get(segment.day) ?? { bytes: 0, segments: 0 };
      day.bytes += bytes;
      day.segments++;
      days.set(segment.day, day);
    }
    this.#segments = seen;
    const wal = walDir(this.#dir);
    for await (const { name, isFile } of Deno.readDir(wal)) {
      if (isFile && isEngineFile(name) && !isWalFile(name)) {
        total += await sizeOf(`${wal}/${name}`) ?? 0;
      }
    }
    return {
      total,
      days: [...days].sort(([a], [b]) => a - b).map(([day, counts]) => ({
        day,
        ...counts,
      })),
    };
  }
}

/**
 * The disk space the file at `path` takes, as `du` counts it (whole
 * blocks: a file of 1 KB takes 4 KB on most file systems), or its size
 * where blocks are not told; `undefined` when it is gone.
 */
async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const { size, blocks } = await Deno.stat(path);
    return blocks === null ? size : blocks * 512;
  } catch (error) {
    ignoreNotFound(error);
    return undefined;
  }
}

/** What a {@link DiskBudget} asks of the store whose files it holds to it. */
export interface BudgetHooks {
  /**
   * Deletes every point before `before` (Unix seconds), or before a later
   * time an earlier deletion reached, from memory at once; returns how
   * many went, the time they were older than, and the promise of the
   * same on disk, for good (the segments whose chunks all go are
   * deleted).
   */
  deleteBefore(
    before: number,
  ): { points: number; before: number; onDisk: Promise<void> };
  /**
   * Hears each step as its points leave memory: how many, and the oldest
   * timestamp kept.
   */
  onDeleted(points: number, before: number): void;
  /** Where each step is told. */
  log(message: string): void;
  /** Whether the store closes: no step starts then. */
  stopped(): boolean;
}

/**
 * Holds a data directory's files to a budget of bytes, deleting the
 * oldest days (the module says how).
 */
export class DiskBudget {
  readonly #dir: string;
  readonly #budget: number;
  readonly #hooks: BudgetHooks;
  readonly #reader: DiskUsageReader;
  /** While the undeletable files alone pass the budget: their bytes. */
  #full: number | undefined;
  /** The end of the newest day deleted, if any. */
  #oldestKept: number | undefined;
  /** Set once a day could not be deleted: warn once. */
  #stuck = false;
  /** The last call of {@link DiskBudget.enforce}: calls run one at a time. */
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * @param dir The data directory.
   * @param budget Most bytes of files.
   * @param hooks The store's side of a step.
   */
  constructor(dir: string, budget: number, hooks: BudgetHooks) {
    this.#dir = dir;
    this.#budget = budget;
    this.#hooks = hooks;
    this.#reader = new DiskUsageReader(dir);
  }

  /** `storage full` while the files no step may delete pass the budget. */
  get refusal(): string | undefined {
    return this.#full === undefined ? undefined : "storage full";
  }

  /** The oldest timestamp kept since a step deleted a day, if one did. */
  get oldestKept(): number | undefined {
    return this.#oldestKept;
  }

  /**
   * Measures the files and, while they pass the budget, deletes the
   * oldest day, one day a step, each step told; or, when the files no
   * step may delete pass it alone, deletes nothing and refuses puts until
   * a later call finds room. Returns whether it deleted. Calls run one
   * after another, each measuring afresh.
   */
  enforce(): Promise<boolean> {
    const run = this.#tail.then(() => this.#enforce());
    this.#tail = run.catch(() => {});
    return run;
  }

  async #enforce(): Promise<boolean> {
    const log = this.#hooks.log;
    const budget = formatSize(this.#budget);
    let deleted = false;
    let previous: number | undefined;
    // Bounded: each step deletes a day, or the loop stops.
    for (;;) {
      const usage = await this.#reader.read();
      if (this.#hooks.stopped()) return deleted;
      const step = budgetStep(usage, this.#budget);
      if (step.kind === "full") {
        if (this.#full === undefined) {
          log(
            `warning: ${this.#dir} needs ${
              formatSize(step.kept)
            } for the newest day's segments and the checkpoint, more than its disk budget of ${budget}; puts are answered storage full until they fit (a larger budget, or a retention that deletes days, makes room)`,
          );
        }
        this.#full = step.kept;
        return deleted;
      }
      if (step.kind === "within") {
        if (this.#full !== undefined) {
          log(
            `${this.#dir} takes ${
              formatSize(usage.total)
            } again, within its disk budget of ${budget}; puts are taken`,
          );
        }
        this.#full = undefined;
        return deleted;
      }
      const { day } = step;
      if (day.day === previous) {
        // Its segments stayed, which no step should leave.
        if (!this.#stuck) {
          log(
            `warning: ${files(day)} of ${
              dayName(day.day)
            } in ${this.#dir} stayed after a step of its disk budget deleted that day; the budget stays exceeded`,
          );
        }
        this.#stuck = true;
        return deleted;
      }
      previous = day.day;
      const { points, before, onDisk } = this.#hooks.deleteBefore(
        (day.day + 1) * DAY_SECONDS,
      );
      this.#oldestKept = Math.max(this.#oldestKept ?? -Infinity, before);
      this.#hooks.onDeleted(points, before);
      await onDisk;
      deleted = true;
      log(
        `disk budget: ${this.#dir} took ${
          formatSize(usage.total)
        }, more than ${budget}; deleted ${files(day)} of ${dayName(day.day)} (${
          formatSize(day.bytes)
        }, ${points} points): points before ${
          timeName(before)
        } are no longer kept`,
      );
    }
  }
}

/** Unix seconds as a UTC date, and the time of day unless midnight. */
function timeName(seconds: number): string {
  if (seconds % DAY_SECONDS === 0) return dayName(seconds / DAY_SECONDS);
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** "the 3 segments", "the segment". */
function files(day: DayFiles): string {
  const n = day.segments;
  return n === 1 ? "the segment" : `the ${n} segments`;
}
