/**
 * WAL files: the log's frames (`log/format.ts`) after the magic
 * `MTRCWAL1`, one file per stretch between two cuts (a checkpoint's, or a
 * deletion's). A file is never appended to after it was cut or the server
 * that wrote it stopped, so a torn tail is left as it is: the next
 * checkpoint deletes the file.
 *
 * @module
 */

import { type PointVisitor, readLog } from "../log/format.ts";
import { copyAside, syncDirectory } from "../log/files.ts";
import { WAL_MAGIC, walDir, walPath } from "./files.ts";
import { changeOfNow, type FileChange, type FileIdentity } from "./watch.ts";
import { writeAll } from "../../../internal/write_all.ts";

/** Least time between two checks that the WAL file is still ours. */
const WATCH_MS = 5;

/** The WAL file appended to, and what was written to it, for the watch. */
export class WalFile {
  /** Its number. */
  readonly n: number;
  /** Its path. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  #identity: FileIdentity;
  /** When it was last checked (`performance.now()`). */
  #checkedAt = -Infinity;

  private constructor(
    n: number,
    path: string,
    file: Deno.FsFile,
    identity: FileIdentity,
  ) {
    this.n = n;
    this.path = path;
    this.#file = file;
    this.#identity = identity;
  }

  /**
   * Creates WAL file `n` in `dir` holding only the magic, forced to disk
   * with its directory entry, open for appending.
   */
  static async create(dir: string, n: number): Promise<WalFile> {
    const file = await createWal(dir, n);
    try {
      const { ino, dev } = await file.stat();
      const identity = { ino, dev, size: WAL_MAGIC.length };
      return new WalFile(n, walPath(dir, n), file, identity);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Its inode and the bytes written to it. */
  get identity(): FileIdentity {
    return this.#identity;
  }

  /** Appends `frame`. */
  async append(frame: Uint8Array): Promise<void> {
    await writeAll(this.#file, frame);
    const { size } = this.#identity;
    this.#identity = { ...this.#identity, size: size + frame.length };
  }

  /** Forces what was appended to disk. */
  sync(): Promise<void> {
    return this.#file.syncData();
  }

  /**
   * How the file at its path differs from what was written to it (deleted,
   * truncated, replaced, grown), checked at most every 5 ms unless `now`.
   */
  change(now = false): FileChange | undefined {
    const at = performance.now();
    if (!now && at - this.#checkedAt < WATCH_MS) return undefined;
    this.#checkedAt = at;
    return changeOfNow(this.path, this.#identity);
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

/** WAL file `n` of `dir`, created holding only the magic. */
async function createWal(dir: string, n: number): Promise<Deno.FsFile> {
  // Truncated: a failed attempt may have left a part of the magic.
  const file = await Deno.open(walPath(dir, n), {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    await writeAll(file, WAL_MAGIC);
    await file.syncData();
    await syncDirectory(walDir(dir));
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}

/**
 * Replays WAL file `n` of `dir` into `visit`; returns the points read and
 * the damaged stretches skipped. A damaged file is copied aside
 * (`*.damaged-<time>`) and reported: every good frame around the damage
 * is replayed.
 */
export async function replayWal(
  dir: string,
  n: number,
  visit: PointVisitor,
  log: (message: string) => void,
): Promise<{ points: number; damaged: number }> {
  const path = walPath(dir, n);
  using file = await Deno.open(path, { read: true });
  const scan = await readLog(file, visit, WAL_MAGIC);
  const { skipped } = scan;
  if (skipped.length > 0) {
    const copy = await copyAside(path, "damaged");
    const bytes = skipped.reduce((sum, r) => sum + r.to - r.from, 0);
    log(
      `warning: ${path}: ${scan.problem} at byte ${
        skipped[0].from
      }; skipped ${bytes} bytes in ${skipped.length} place(s) and replayed every good frame around them; the file is kept as ${copy}`,
    );
  }
  return { points: scan.pointCount, damaged: skipped.length };
}
