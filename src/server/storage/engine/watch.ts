/**
 * Noticing that a file the storage engine relies on was touched under it:
 * deleted, truncated, replaced or written by someone else. The engine's
 * files are immutable once written (segments, checkpoints, WAL files
 * after their cut) or appended to only by the engine (the current WAL
 * file), so their inode, size and modification time tell, without
 * reading them.
 *
 * @module
 */

import { copyAside } from "../log/files.ts";

/** What identifies a file's contents without reading them. */
export interface FileIdentity {
  /** The inode: another one means the file was replaced. */
  readonly ino: number | null;
  /** The device the inode is on. */
  readonly dev: number;
  /** Bytes the file holds. */
  readonly size: number;
  /** Modification time (ms), where it is to be checked. */
  readonly mtime?: number;
}

/** How a file differs from what the engine wrote. */
export interface FileChange {
  /** The file that changed. */
  readonly path: string;
  /** What happened to it, to complete "PATH ...". */
  readonly problem: string;
  /** The file holds bytes the engine did not write: keep a copy. */
  readonly foreign: boolean;
}

/** The identity of the file at `path` now, modification time included. */
export async function identify(path: string): Promise<FileIdentity> {
  return identityOf(await Deno.stat(path));
}

function identityOf(info: Deno.FileInfo): FileIdentity {
  return {
    ino: info.ino,
    dev: info.dev,
    size: info.size,
    mtime: info.mtime?.getTime(),
  };
}

/**
 * How the file at `path` differs from `known`, or `undefined` when it
 * does not (the modification time is compared only where `known` has
 * one).
 */
export async function changeOf(
  path: string,
  known: FileIdentity,
): Promise<FileChange | undefined> {
  let now: FileIdentity | undefined;
  try {
    now = identityOf(await Deno.stat(path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return difference(path, known, now);
}

/**
 * {@link changeOf} without leaving the event loop: a `stat` takes a few
 * microseconds here against 100 µs or more through the thread pool, and
 * the current WAL file is checked before its writes.
 */
export function changeOfNow(
  path: string,
  known: FileIdentity,
): FileChange | undefined {
  let now: FileIdentity | undefined;
  try {
    now = identityOf(Deno.statSync(path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return difference(path, known, now);
}

/** How `now` (`undefined`: the file is gone) differs from `known`. */
function difference(
  path: string,
  known: FileIdentity,
  now: FileIdentity | undefined,
): FileChange | undefined {
  if (now === undefined) {
    return { path, problem: "was deleted", foreign: false };
  }
  if (now.ino !== known.ino || now.dev !== known.dev) {
    return { path, problem: "was replaced by another file", foreign: true };
  }
  if (now.size < known.size) {
    return {
      path,
      problem: `was truncated to ${now.size} of ${known.size} bytes`,
      foreign: false,
    };
  }
  if (now.size > known.size) {
    return {
      path,
      problem: `grew by ${now.size - known.size} bytes not written here`,
      foreign: true,
    };
  }
  if (known.mtime !== undefined && now.mtime !== known.mtime) {
    return { path, problem: "was written to", foreign: true };
  }
  return undefined;
}

/**
 * Warns `log` about `change` and what is done about it (`action`), after
 * keeping a copy (`<name>.replaced-<time>`) of a file someone else wrote.
 */
export async function reportChange(
  change: FileChange,
  action: string,
  log: (message: string) => void,
): Promise<void> {
  const copy = change.foreign
    ? await copyAside(change.path, "replaced")
    : undefined;
  log(
    `warning: ${change.path} ${change.problem} while in use; ${action}${
      copy === undefined ? "" : ` (the file found is kept as ${copy})`
    }`,
  );
}

/** Files that must stay as they were written, each with its identity. */
export class WatchedFiles {
  readonly #files = new Map<string, FileIdentity>();

  /** Watches the file at `path` as it is now. */
  async add(path: string): Promise<void> {
    this.#files.set(path, await identify(path));
  }

  /** Watches `path` as `identity` (a file closed by the engine). */
  set(path: string, identity: FileIdentity): void {
    this.#files.set(path, identity);
  }

  /** Stops watching `paths` (deleted or replaced by the engine). */
  delete(paths: Iterable<string>): void {
    for (const path of paths) this.#files.delete(path);
  }

  /** Every watched file that changed, each once. */
  changes(): Promise<FileChange[]> {
    return this.changesOf([...this.#files.keys()]);
  }

  /**
   * Those of `paths` that changed, or are no longer watched (a change
   * found before, or deleted by the engine): a compaction checks its
   * inputs before it deletes them, so a file touched under it is left for
   * the watch to report and mend.
   */
  async changesOf(paths: Iterable<string>): Promise<FileChange[]> {
    const found: FileChange[] = [];
    for (const path of paths) {
      const identity = this.#files.get(path);
      if (identity === undefined) {
        found.push({ path, problem: "is no longer watched", foreign: false });
        continue;
      }
      const change = await changeOf(path, identity);
      if (change !== undefined) found.push(change);
    }
    return found;
  }
}
