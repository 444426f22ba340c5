/**
 * The compaction workers a test made, counted by wrapping the global
 * `Worker` that the compactor constructs.
 *
 * @module
 */

/** Compaction workers constructed, and those not terminated yet. */
export interface WorkerCount {
  started: number;
  live: number;
}

/** Runs `body` with every compaction worker counted in `count`. */
export async function countingWorkers(
  body: (count: WorkerCount) => Promise<void>,
): Promise<void> {
  const count: WorkerCount = { started: 0, live: 0 };
  const Original = globalThis.Worker;
  class Counted extends Original {
    #counted: boolean;
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      this.#counted = `${url}`.endsWith("/compaction/worker.ts");
      if (this.#counted) {
        count.started++;
        count.live++;
      }
    }
    override terminate(): void {
      if (this.#counted) {
        count.live--;
        this.#counted = false;
      }
      super.terminate();
    }
  }
  globalThis.Worker = Counted;
  try {
    await body(count);
  } finally {
    globalThis.Worker = Original;
  }
}
