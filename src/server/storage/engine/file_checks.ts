/**
 * The storage engine's check of the files it wrote (`watch.ts`): every
 * `watchInterval` and at close, each segment, checkpoint and WAL file
 * before the current one is compared with what was written; a change is
 * reported and everything in memory is rewritten into new files (and
 * again at each check until a rewrite succeeds).
 *
 * @module
 */

import type { CheckpointWriter, RewriteState } from "./checkpoint.ts";
import type { ChunkedMemory } from "./sealed.ts";
import { reportChange, type WatchedFiles } from "./watch.ts";

/** What {@link FileChecks} works with. */
export interface FileCheckTarget {
  /** The data directory. */
  readonly dir: string;
  /** The writer, which knows the files and rewrites them. */
  readonly writer: CheckpointWriter;
  /** The files watched. */
  readonly watched: WatchedFiles;
  /** Where changes and rewrites are told. */
  log(message: string): void;
  /** The points in memory. */
  readonly memory: ChunkedMemory;
  /** Starts a new WAL file; resolves with the number of the one before. */
  cutWal(): Promise<number>;
  /** Runs `task` between two WAL writes. */
  serially<T>(task: () => Promise<T>): Promise<T>;
  /** Whether checks are to be skipped now (the WAL failed, or closing). */
  paused(): boolean;
}

/** The periodic check of the files, and its rewrite; see the module. */
export class FileChecks {
  readonly #target: FileCheckTarget;
  /** A file was touched under the store: everything is to be rewritten. */
  #rewriteDue = false;
  /** The check of the watched files, and its rewrite, while one runs. */
  #running: Promise<void> | undefined;

  /** @param target The store's side. */
  constructor(target: FileCheckTarget) {
    this.#target = target;
  }

  /** The check running, if one is. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** Starts a check unless one runs or checks are paused; a failure is warned about. */
  start(): void {
    const target = this.#target;
    if (this.#running || target.paused()) return;
    this.#running = this.check((cut) => target.serially(cut))
      .then(() => {}, (error) => {
        target.log(
          `warning: cannot rewrite ${target.dir} from memory; retrying at the next check: ${error}`,
        );
      }).finally(() => this.#running = undefined);
  }

  /**
   * Reports each watched file that changed, and then rewrites everything
   * from memory, its WAL cut run by `serially`. Resolves whether it
   * rewrote.
   */
  async check(
    serially: (cut: () => Promise<RewriteState>) => Promise<RewriteState>,
  ): Promise<boolean> {
    const { writer, watched, log, dir } = this.#target;
    for (const change of await writer.changes()) {
      await reportChange(change, "rewriting every point from memory", log);
      watched.delete([change.path]);
      this.#rewriteDue = true;
    }
    if (!this.#rewriteDue) return false;
    await writer.rewrite(await serially(() => this.#cutForRewrite()));
    this.#rewriteDue = false;
    log(`rewrote every point of ${dir} from memory`);
    return true;
  }

  /** The WAL cut of a rewrite of everything: the keys, the points read later. */
  async #cutForRewrite(): Promise<RewriteState> {
    const { memory, cutWal } = this.#target;
    const wal = await cutWal();
    // Every point is rewritten: the chunks sealed so far among them.
    memory.takeSealed();
    return {
      wal,
      keys: Array.from(memory.keys()),
      series: memory.getAll(),
    };
  }
}
