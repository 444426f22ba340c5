/**
 * Compaction of the storage engine's segments (docs/storage-engine.md,
 * "Compaction"): each due UTC day (`plan.ts`) has its segments merged into
 * one of 2,000-point chunks, a day at a time, on a worker thread.
 *
 * The inputs are the day's segments listed at one moment, between two
 * file tasks of the checkpoint writer; the output's sequence is reserved
 * then, so every segment written later (a checkpoint's chunks of the same
 * day, rewrites among them) is newer and still wins over it. The worker
 * writes the output as a `*.tmp`, fsynced. Then, between two file tasks
 * again, unless an input was deleted or touched meanwhile: the output is
 * renamed into place and the directory fsynced, and only then are the
 * inputs deleted. Its footer names them, so a start after a crash at any
 * point finds either the inputs (and a `*.tmp` it deletes) or a sound
 * output that makes start-up delete the inputs left.
 *
 * @module
 */

import { syncDirectory } from "../../log/files.ts";
import type { CheckpointWriter, SegmentOnDisk } from "../checkpoint.ts";
import { compactionTemp, dayName, segmentPath, segmentsDir } from "../files.ts";
import type { WatchedFiles } from "../watch.ts";
import type { CompactionOutput } from "./job.ts";
import { dueDays, type DuePlan, segmentsByDay } from "./plan.ts";
import { CompactionWorker } from "./worker_client.ts";

/** What a {@link Compactor} works with. */
export interface CompactorTarget {
  /** The data directory. */
  readonly dir: string;
  /** The writer that lists the segments on disk and writes new ones. */
  readonly writer: CheckpointWriter;
  /** The files watched for tampering. */
  readonly watched: WatchedFiles;
  /** Where each compaction and warning is told. */
  log(message: string): void;
  /** The wall clock in Unix seconds: which days are over. */
  now(): number;
}

/** Compacts a data directory's due days, one at a time (see the module). */
export class Compactor {
  readonly #target: CompactorTarget;
  readonly #worker = new CompactionWorker();
  #running: Promise<void> | undefined;
  /** A start came while a run went on: plan again after it. */
  #again = false;
  #stopped = false;
  /** Set after a compaction failed: warn once until one succeeds. */
  #failed = false;
  #compactions = 0;
  /** Bytes of segments, by path, asked for once a segment is a day's only one. */
  readonly #sizes = new Map<string, number>();

  /** @param target The store's side. */
  constructor(target: CompactorTarget) {
    this.#target = target;
  }

  /** Days compacted since the store opened. */
  get compactions(): number {
    return this.#compactions;
  }

  /** Days due for a compaction now (as far as the sizes are known). */
  get due(): number {
    return this.#plan().length;
  }

  /** The days due now, sizes as known. */
  #plan(): DuePlan[] {
    const { writer, now } = this.#target;
    return dueDays(
      writer.segments(),
      now(),
      (segment) => this.#sizes.get(segment.path),
    );
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
          const plan = this.#plan().find(({ day }) => !tried.has(day));
          if (plan === undefined) break;
          tried.add(plan.day);
          await this.#compact(plan.day);
        }
        tried.clear();
      } while (this.#again && !this.#stopped);
    } catch (error) {
      this.#target.log(
        `warning: compaction of ${this.#target.dir} stopped: ${error}`,
      );
    } finally {
      this.#worker.close();
    }
  }

  /** Compacts `day`, whose segments are listed again now. */
  async #compact(day: number): Promise<void> {
    const { dir, writer, log } = this.#target;
    const started = performance.now();
    // The inputs and the output's sequence at one moment, between file tasks.
    const job = await writer.replacing(() => {
      const inputs = writer.segments().filter((s) =>
        segmentPath(dir, day, s.sequence) === s.path
      ).sort((a, b) => a.sequence - b.sequence);
      const sequence = writer.reserveSequence();
      const path = segmentPath(dir, day, sequence);
      return Promise.resolve({
        inputs,
        sequence,
        path,
        mark: writer.mark,
        temp: compactionTemp(path),
      });
    });
    // None left (deleted meanwhile), or the stop came.
    if (job.inputs.length === 0 || this.#stopped) return;
    let output: CompactionOutput;
    try {
      output = await this.#worker.run({
        inputs: job.inputs.map(({ path, sequence }) => ({ path, sequence })),
        sequence: job.sequence,
        mark: job.mark,
        temp: job.temp,
      });
    } catch (error) {
      await Deno.remove(job.temp).catch(() => {});
      if (!this.#stopped) this.#failure(day, job.inputs.length, error);
      return;
    }
    const segment: SegmentOnDisk = {
      path: job.path,
      sequence: job.sequence,
      last: output.last,
      compacted: true,
    };
    let installed: boolean;
    try {
      installed = await this.#install(segment, job.temp, job.inputs);
    } catch (error) {
      await Deno.remove(job.temp).catch(() => {});
      this.#failure(day, job.inputs.length, error);
      return;
    }
    if (!installed) {
      await Deno.remove(job.temp).catch(() => {});
      return;
    }
    this.#compactions++;
    if (this.#failed) log(`compaction of ${dir} works again`);
    this.#failed = false;
    log(
      `compacted ${job.inputs.length} segments of ${
        dayName(day)
      } in ${dir} into one (sequence ${job.sequence}): ${output.points} points in ${output.chunks} chunks, ${output.inputBytes} B to ${output.bytes} B, in ${
        Math.round(performance.now() - started)
      } ms`,
    );
  }

  /**
   * Puts the output in place and deletes the inputs, between file tasks;
   * `false` (nothing done) when the stop came, or an input was deleted
   * (a deletion, a rewrite of everything) or touched meanwhile: the watch
   * deals with that, and a later compaction lists the day afresh.
   */
  #install(
    output: SegmentOnDisk,
    temp: string,
    inputs: readonly SegmentOnDisk[],
  ): Promise<boolean> {
    const { dir, watched } = this.#target;
    return this.#target.writer.replacing(async (segments) => {
      if (this.#stopped || !inputs.every((s) => segments.has(s))) return false;
      const touched = await watched.changesOf(inputs.map((s) => s.path));
      if (touched.length > 0) return false;
      await Deno.rename(temp, output.path);
      await segments.add(output);
      // The output is durable before any input goes.
      await syncDirectory(segmentsDir(dir));
      await segments.remove(inputs);
      return true;
    });
  }

  #failure(day: number, inputs: number, error: unknown): void {
    if (!this.#failed) {
      this.#target.log(
        `warning: cannot compact the ${inputs} segments of ${
          dayName(day)
        } in ${this.#target.dir}; they stay as they are, retrying after the next checkpoint: ${error}`,
      );
    }
    this.#failed = true;
  }
}
