/**
 * The main side of the compaction worker (`worker.ts`): one batch of
 * days at a time, the worker started with the first and ended by
 * `close`.
 *
 * @module
 */

import type { CompactionJob, CompactionOutput } from "./job.ts";

/** What the worker posts back for one day of a batch. */
export type CompactionResult =
  | { readonly output: CompactionOutput }
  | { readonly error: string };

/** What the worker posts back for a batch: a result per day, or why it failed. */
export type CompactionReply =
  | { readonly results: readonly CompactionResult[] }
  | { readonly error: string };

const WORKER = new URL("./worker.ts", import.meta.url).href;

/** Runs compaction jobs on a worker thread. */
export class CompactionWorker {
  #worker: Worker | undefined;
  /** Settles the job running, if one is. */
  #settle: ((reply: CompactionReply) => void) | undefined;

  /**
   * Runs `jobs` on the worker, one after another; resolves with a result
   * for each.
   *
   * @throws {Error} when the worker fails, or `close` ends it first.
   */
  async run(
    jobs: readonly CompactionJob[],
  ): Promise<readonly CompactionResult[]> {
    if (this.#settle !== undefined) throw new Error("a job is running");
    const worker = this.#worker ??= this.#start();
    const reply = await new Promise<CompactionReply>((resolve) => {
      this.#settle = resolve;
      worker.postMessage(jobs);
    });
    this.#settle = undefined;
    if ("error" in reply) throw new Error(reply.error);
    return reply.results;
  }

  /** Ends the worker (a job running fails); another `run` starts a new one. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#settle?.({ error: "the compaction was stopped" });
  }

  #start(): Worker {
    const worker = new Worker(WORKER, { type: "module" });
    worker.onmessage = (event: MessageEvent<CompactionReply>) => {
      this.#settle?.(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#settle?.({
        error: `the compaction worker failed: ${event.message}`,
      });
      this.close();
    };
    return worker;
  }
}
