/**
 * Replaying the log at start-up without ever destroying bytes: a damaged
 * log is copied aside first, every good frame around the damage is
 * replayed, and only a torn tail is cut off in place.
 *
 * @module
 */

import { type LogScan, MAGIC, readLog } from "./format.ts";
import type { ChunkStore } from "../engine/store.ts";
import { copyAside, syncDirectory } from "./files.ts";
import { writeAll } from "../../../internal/write_all.ts";

/** What {@link replay} found. */
export interface Replayed {
  /** The scan, with `fileBytes` as the file is now. */
  readonly scan: LogScan;
  /** The log was damaged in the middle: write a fresh one from memory. */
  readonly rewrite: boolean;
}

/**
 * Replays the log open in `file` (at `path`, in `dir`) into `memory`,
 * starts an empty log where there was none, and handles damage as the
 * module says, with one warning to `log`.
 */
export async function replay(
  dir: string,
  path: string,
  file: Deno.FsFile,
  memory: ChunkStore,
  log: (message: string) => void,
): Promise<Replayed> {
  const started = performance.now();
  let scan = await readLog(
    file,
    (key, timestamp, value) => memory.upsert(key, timestamp, value),
  );
  if (scan.validBytes === 0) {
    await file.truncate(0);
    await writeAll(file, MAGIC);
    await file.syncData();
    await syncDirectory(dir);
    scan = { ...scan, fileBytes: MAGIC.length };
  }
  const { skipped } = scan;
  const tornTail = skipped.length === 1 &&
    skipped[0].to === scan.fileBytes;
  if (skipped.length > 0) {
    const copy = await copyAside(path, "damaged");
    const bytes = skipped.reduce((sum, r) => sum + r.to - r.from, 0);
    log(
      `warning: ${path}: ${scan.problem} at byte ${skipped[0].from}; ${
        tornTail
          ? `cut off the last ${bytes} bytes (a torn or corrupt tail)`
          : `skipped ${bytes} damaged bytes in ${skipped.length} place(s), replayed every good frame around them and wrote a fresh log`
      }; the damaged log is kept as ${copy}`,
    );
    if (tornTail) {
      await file.truncate(skipped[0].from);
      await file.syncData();
      scan = { ...scan, fileBytes: skipped[0].from };
    }
  }
  log(
    `replayed ${scan.pointCount} puts (${memory.pointCount} points) from ${path} in ${
      Math.round(performance.now() - started)
    } ms`,
  );
  return { scan, rewrite: skipped.length > 0 && !tornTail };
}
