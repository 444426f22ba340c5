/**
 * The main side of the compaction worker (`worker.ts`): one job at a
 * time, the worker started with the first and ended by `close`.
 *
 * @module
 */

import type { CompactionJob, CompactionOutput } from "./job.ts";

/** What the worker posts back for a job. */
export type CompactionReply =
  | { readonly output: CompactionOutput }
  | { readonly error: string };

const WORKER = new URL("./worker.ts", import.meta.url).href;

/** Runs compaction jobs on a worker thread. */
export class CompactionWorker {
  #worker: Worker | undefined;
  /** Settles the job running, if one is. */
  #settle: ((reply: CompactionReply) => void) | undefined;

  /**
   * Runs `job` on the worker.
   *
   * @throws {Error} when the job fails, the worker fails, or `close`
   * ends it first.
   */
  async run(job: CompactionJob): Promise<CompactionOutput> {
    if (this.#settle !== undefined) throw new Error("a job is running");
    const worker = this.#worker ??= this.#start();
    const reply = await new Promise<CompactionReply>((resolve) => {
      this.#settle = resolve;
      worker.postMessage(job);
    });
    this.#settle = undefined;
    if ("error" in reply) throw new Error(reply.error);
    return reply.output;
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
