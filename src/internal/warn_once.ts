/**
 * A failure that may repeat until it stops (a checkpoint, a compaction):
 * its warning is logged once, not at every attempt, and a line says when
 * it works again.
 *
 * @module
 */

/** Logs a repeating failure once, and its end. */
export class RepeatedFailure {
  readonly #log: (message: string) => void;
  #failing = false;

  /** @param log Where the lines go. */
  constructor(log: (message: string) => void) {
    this.#log = log;
  }

  /** Whether the last attempt failed. */
  get failing(): boolean {
    return this.#failing;
  }

  /** An attempt failed: logs `warning()` unless the one before failed too. */
  failed(warning: () => string): void {
    if (!this.#failing) this.#log(warning());
    this.#failing = true;
  }

  /** An attempt worked: logs `recovery()` if the one before had failed. */
  worked(recovery: () => string): void {
    if (this.#failing) this.#log(recovery());
    this.#failing = false;
  }
}
