/**
 * Compaction of the storage engine's segments (docs/storage-engine.md,
 * "Compaction"): each due UTC day (`plan.ts`) has its segments merged into
 * one of chunks of up to 8,640 points on a worker thread, a day at a time, in
 * batches of days that share the directory fsyncs (a backfill's many
 * small days). One worker runs batch after batch while days are due (now
 * or once they have been still for `quietMs`) and is ended as soon as none
 * is: a worker started afresh for each batch spent about a tenth of a 20M
 * ingest's CPU on starting up and warming its code again. Its heap (20 to
 * 40 MB for a backfill of 1,000 keys) is not kept once nothing is due, nor
 * after a batch in which a day failed.
 *
 * The inputs are each day's segments listed at one moment, between two
 * file tasks of the checkpoint writer; the output's sequence is reserved
 * then, so every segment written later (a checkpoint's chunks of the same
 * day, rewrites among them) is newer and still wins over it. The worker
 * writes each output as a `*.tmp`, fsynced. Then, between two file tasks
 * again, for each day unless an input was deleted or touched meanwhile:
 * the output is renamed into place; then the directory is fsynced, and
 * only then are the inputs deleted. An output's footer names its inputs,
 * so a start after a crash at any point finds either the inputs (and a
 * `*.tmp` it deletes) or a sound output that makes start-up delete the
 * inputs left.
 *
 * @module
 */

import { syncDirectory } from "../../log/files.ts";
import { plural } from "../../../../internal/plural.ts";
import type { CheckpointWriter, SegmentOnDisk } from "../checkpoint.ts";
import { compactionTemp, dayName, segmentPath, segmentsDir } from "../files.ts";
import type { WatchedFiles } from "../watch.ts";
import type { ExpiryMark } from "../expiry.ts";
import type { ChunkedMemory } from "../sealed.ts";
import { adoptInstalled } from "./adopt.ts";
import type { CompactionOutput } from "./job.ts";
import { dueDays, type DuePlan, newestWritten, segmentsByDay } from "./plan.ts";
import { type CompactionResult, CompactionWorker } from "./worker_client.ts";
import { RepeatedFailure } from "../../../../internal/warn_once.ts";

/** Most days of one batch: one fsync of the directory puts them in place. */
const BATCH_DAYS = 64;
/** Most bytes of the inputs of one batch (a single day may have more). */
const BATCH_BYTES = 8 * 1024 * 1024;

/** One day of a batch, as listed. */
interface DayJob {
  readonly day: number;
  /** Whether the inputs are every segment of the day, or its newest ones. */
  readonly whole: boolean;
  /** The segments merged, oldest first. */
  readonly inputs: readonly SegmentOnDisk[];
  /** The output's sequence and path. */
  readonly sequence: number;
  readonly path: string;
  /** Where the worker writes it. */
  readonly temp: string;
  /** The expiry mark when the inputs were listed. */
  readonly mark: ExpiryMark;
}

/**
 * The first of `due` (oldest first) up to {@link BATCH_DAYS} days or
 * {@link BATCH_BYTES} of inputs, at least one: small days (a backfill's)
 * share a directory fsync, large ones go one at a time.
 */
async function batchOf(due: readonly DuePlan[]): Promise<DuePlan[]> {
  const batch: DuePlan[] = [];
  let bytes = 0;
  for (const plan of due.slice(0, BATCH_DAYS)) {
    for (const { path } of plan.segments) {
      bytes += await Deno.stat(path).then((info) => info.size, () => 0);
    }
    if (batch.length > 0 && bytes > BATCH_BYTES) break;
    batch.push(plan);
  }
  return batch;
}

/** What a {@link Compactor} works with. */
export interface CompactorTarget {
  /** The data directory. */
  readonly dir: string;
  /** The writer that lists the segments on disk and writes new ones. */
  readonly writer: CheckpointWriter;
  /** The files watched for tampering. */
  readonly watched: WatchedFiles;
  /** The store's memory: a compacted day's chunks replace its sealed ones there. */
  readonly memory: ChunkedMemory;
  /** Where each compaction and warning is told. */
  log(message: string): void;
  /** The wall clock in Unix seconds: which days are over. */
  now(): number;
  /**
   * Milliseconds a day that is over waits after its newest segment before
   * it is merged: while puts keep writing into it, merging it after each
   * checkpoint would rewrite the whole day again and again.
   */
  readonly quietMs: number;
}

/** Compacts a data directory's due days, one at a time (see the module). */
export class Compactor {
  readonly #target: CompactorTarget;
  readonly #worker = new CompactionWorker();
  #running: Promise<void> | undefined;
  /** A start came while a run went on: plan again after it. */
  #again = false;
  #stopped = false;
  /** A failing compaction is warned about once, until one succeeds. */
  readonly #failures: RepeatedFailure;
  #compactions = 0;
  /** Bytes of segments, by path, asked for once a segment is a day's only one. */
  readonly #sizes = new Map<string, number>();
  /** When each segment was first listed (`performance.now()`); those found at start count as old. */
  readonly #seen = new Map<string, number>();
  /** Starts a run once a waiting day has been still for `quietMs`. */
  #wake: ReturnType<typeof setTimeout> | undefined;

  /** @param target The store's side. */
  constructor(target: CompactorTarget) {
    this.#target = target;
    this.#failures = new RepeatedFailure((line) => target.log(line));
    for (const { path } of target.writer.segments()) {
      this.#seen.set(path, -Infinity);
    }
  }

  /** Days compacted since the store opened. */
  get compactions(): number {
    return this.#compactions;
  }

  /**
   * Days due for a compaction, now or once their newest segment is
   * `quietMs` old (as far as the sizes are known).
   */
  get due(): number {
    return this.#plan(false).length;
  }

  /** The days due now (`quiet`: not those written into lately), sizes as known. */
  #plan(quiet = true): DuePlan[] {
    const { writer, now, quietMs } = this.#target;
    const at = performance.now();
    const segments = [...writer.segments()];
    const listed = new Set<string>();
    for (const { path } of segments) {
      listed.add(path);
      if (!this.#seen.has(path)) this.#seen.set(path, at);
    }
    for (const path of this.#seen.keys()) {
      if (!listed.has(path)) this.#seen.delete(path);
    }
    return dueDays(
      segments,
      now(),
      (segment) => this.#sizes.get(segment.path),
      (segment) => quiet && at - this.#seen.get(segment.path)! < quietMs,
    );
  }

  /** Starts a run once the days that wait now have been still for `quietMs`. */
  #wakeForWaiting(): void {
    clearTimeout(this.#wake);
    this.#wake = undefined;
    if (this.#stopped || this.#plan(false).length === 0) return;
    const wake = setTimeout(() => {
      this.#wake = undefined;
      void this.start();
    }, this.#target.quietMs + 10);
    // Never what keeps a process alive.
    Deno.unrefTimer(wake);
    this.#wake = wake;
  }

  /** Ends the worker when no day is due, now or once still for `quietMs`. */
  #endWorkerUnlessDue(): void {
    if (this.#stopped || this.#plan(false).length === 0) this.#worker.close();
  }

  /** Learns the sizes of the segments that are their day's only one. */
  async #measure(): Promise<void> {
    const known = new Map<string, number>();
    const days = segmentsByDay(this.#target.writer.segments());
    for (const [segment, ...others] of days.values()) {
      if (others.length > 0 || segment.compacted) continue;
      const size = this.#sizes.get(segment.path) ??
        await Deno.stat(segment.path).then((info) => info.size, () => 0);
      known.set(segment.path, size);
    }
    this.#sizes.clear();
    for (const [path, size] of known) this.#sizes.set(path, size);
  }

  /**
   * Compacts every due day unless a run goes on (which then plans again
   * once done); resolves when no run goes on. A day that fails is warned
   * about (once until one succeeds) and tried again at the next start.
   */
  start(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#run().finally(() => this.#running = undefined);
    return this.#running;
  }

  /** Stops: a compaction running is abandoned (its `*.tmp` deleted). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#wake);
    this.#worker.close();
    await this.#running;
  }

  async #run(): Promise<void> {
    const tried = new Set<number>();
    try {
      do {
        this.#again = false;
        await this.#measure();
        // Bounded: each day is tried once a pass, and a pass runs again
        // only when a checkpoint asked meanwhile.
        for (;;) {
          if (this.#stopped) return;
          const due = this.#plan().filter(({ day }) => !tried.has(day));
          if (due.length === 0) break;
          const batch = await batchOf(due);
          for (const { day } of batch) tried.add(day);
          await this.#compact(batch);
        }
        tried.clear();
      } while (this.#again && !this.#stopped);
    } catch (error) {
      this.#target.log(
        `warning: compaction of ${this.#target.dir} stopped: ${error}`,
      );
    } finally {
      this.#endWorkerUnlessDue();
      this.#wakeForWaiting();
    }
  }

  /** Compacts the days `plans` name, whose segments are listed again now. */
  async #compact(plans: readonly DuePlan[]): Promise<void> {
    const { dir, writer, log } = this.#target;
    const started = performance.now();
    // The inputs and the outputs' sequences at one moment, between file tasks.
    const jobs = await writer.replacing(() => {
      const byDay = segmentsByDay(writer.segments());
      const mark = writer.mark;
      return Promise.resolve(plans.flatMap(({ day, whole }): DayJob[] => {
        const all = (byDay.get(day) ?? []).sort((a, b) =>
          a.sequence - b.sequence
        );
        const inputs = whole ? all : newestWritten(all);
        // None left (deleted meanwhile), or one newest: nothing to merge.
        if (inputs.length < (whole ? 1 : 2)) return [];
        const sequence = writer.reserveSequence();
        const path = segmentPath(dir, day, sequence);
        return [{
          day,
          whole,
          inputs,
          sequence,
          path,
          mark,
          temp: compactionTemp(path),
        }];
      }));
    });
    if (jobs.length === 0 || this.#stopped) return;
    let results: readonly CompactionResult[] = [];
    try {
      results = await this.#worker.run(jobs.map((job) => ({
        inputs: job.inputs.map(({ path, sequence }) => ({ path, sequence })),
        sequence: job.sequence,
        mark: job.mark,
        temp: job.temp,
      })));
    } catch (error) {
      // A worker that failed is not given the next batch.
      this.#worker.close();
      await this.#failure(jobs[0], error);
    }
    const done: [DayJob, CompactionOutput][] = [];
    for (const [i, result] of results.entries()) {
      if ("output" in result) done.push([jobs[i], result.output]);
      else await this.#failure(jobs[i], result.error);
    }
    // A day that failed (a full disk) is tried again every `quietMs`: a
    // worker is not kept waiting for it.
    if (done.length < results.length) this.#worker.close();
    let installed: ReadonlyMap<DayJob, number> = new Map();
    try {
      installed = await this.#install(done);
    } catch (error) {
      await this.#failure(jobs[0], error);
    }
    // At once: `metrics_compactions_due` shows 0 only with no worker left.
    this.#endWorkerUnlessDue();
    for (const job of jobs) {
      if (!installed.has(job)) await Deno.remove(job.temp).catch(() => {});
    }
    if (installed.size > 0) {
      this.#failures.worked(() => `compaction of ${dir} works again`);
    }
    const ms = Math.round(performance.now() - started);
    for (const [job, output] of done) {
      const adopted = installed.get(job);
      if (adopted === undefined) continue;
      this.#compactions++;
      log(
        `compacted ${job.whole ? "" : "the newest "}${
          plural(job.inputs.length, "segment")
        } of ${
          dayName(job.day)
        } in ${dir} into one (sequence ${job.sequence}): ${output.points} points in ${output.chunks} chunks, ${output.inputBytes} B to ${output.bytes} B, in ${ms} ms; memory took its chunks for ${
          plural(adopted, "key")
        }`,
      );
    }
  }

  /**
   * Puts the outputs in place and deletes their inputs, between file
   * tasks, and resolves with the days it did, each with the keys whose
   * chunks in memory it replaced (`adopt.ts`). A day is left (nothing done)
   * when the stop came, or one of its inputs was deleted (a deletion, a
   * rewrite of everything) or touched meanwhile: the watch deals with
   * that, and a later compaction lists the day afresh.
   */
  #install(
    done: readonly [DayJob, CompactionOutput][],
  ): Promise<Map<DayJob, number>> {
    const { dir, watched } = this.#target;
    return this.#target.writer.replacing(async (segments) => {
      // Each day put in place, with the keys whose memory took its chunks.
      const installed = new Map<DayJob, number>();
      for (const [job, output] of done) {
        if (this.#stopped || !job.inputs.every((s) => segments.has(s))) {
          continue;
        }
        const paths = job.inputs.map((s) => s.path);
        if ((await watched.changesOf(paths)).length > 0) continue;
        await Deno.rename(job.temp, job.path);
        const { path, sequence } = job;
        await segments.add({
          path,
          sequence,
          last: output.last,
          compacted: true,
        });
        installed.set(job, 0);
      }
      if (installed.size === 0) return installed;
      // The outputs are durable before any input goes.
      await syncDirectory(segmentsDir(dir));
      await segments.remove([...installed.keys()].flatMap((job) => job.inputs));
      for (const [job, output] of done) {
        if (!installed.has(job) || this.#stopped) continue;
        const { day, sequence, mark } = job;
        const { memory, writer } = this.#target;
        installed.set(
          job,
          adoptInstalled(memory, writer, {
            day,
            sequence,
            mark,
            segment: output.segment,
          }),
        );
      }
      return installed;
    });
  }

  /**
   * Warns that `job` failed, once until a compaction succeeds; not when
   * the stop came, or an input was touched under the store (the watch
   * reports and mends that).
   */
  async #failure(job: DayJob, error: unknown): Promise<void> {
    if (this.#stopped) return;
    const paths = job.inputs.map((s) => s.path);
    if ((await this.#target.watched.changesOf(paths)).length > 0) return;
    this.#failures.failed(() =>
      `warning: cannot compact the ${plural(job.inputs.length, "segment")} of ${
        dayName(job.day)
      } in ${this.#target.dir}; they stay as they are, retrying after the next checkpoint: ${error}`
    );
  }
}
