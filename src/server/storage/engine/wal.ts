/**
 * WAL files: the log's frames (`log/format.ts`) after the magic
 * `MTRCWAL1`, one file per stretch between two checkpoints. A file is
 * never appended to after the server that wrote it stops, so a torn tail
 * is left as it is: the next checkpoint deletes the file.
 *
 * @module
 */

import { type PointVisitor, readLog } from "../log/format.ts";
import { copyAside, syncDirectory } from "../log/files.ts";
import { WAL_MAGIC, walDir, walPath } from "./files.ts";
import { writeAll } from "../../../internal/write_all.ts";

/**
 * Creates WAL file `n` in `dir` holding only the magic, forced to disk
 * with its directory entry, and returns it open for appending.
 */
export async function createWal(dir: string, n: number): Promise<Deno.FsFile> {
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
