/**
 * Conversion of a data directory written by 0.2 (`metrics.log`, starting
 * with `MTRCLOG1`): the log is replayed into memory, a checkpoint writes
 * its chunks as segments marked `converted`, and only once every file is
 * on disk is the log renamed to `metrics.log.v0.2-<time>`. A start that
 * still finds `metrics.log` was interrupted before that rename: it deletes
 * the converted segments and every WAL file and checkpoint, and converts
 * again.
 *
 * @module
 */

import { MAGIC, type PointVisitor, readLog } from "../log/format.ts";
import { copyAside, syncDirectory } from "../log/files.ts";
import type { CheckpointState, CheckpointWriter } from "./checkpoint.ts";
import {
  checkpointPath,
  listWal,
  type ReadSegment,
  removeAll,
  segmentsDir,
  walDir,
  walPath,
} from "./files.ts";

const LEGACY_NAME = "metrics.log";

/**
 * The path of a 0.2 log in `dir` to convert, or `undefined`.
 *
 * @throws {Error} when `metrics.log` is there but is not a metrics log:
 * it is not ours to convert or delete.
 */
export async function legacyLog(dir: string): Promise<string | undefined> {
  const path = `${dir}/${LEGACY_NAME}`;
  let head: Uint8Array;
  try {
    using file = await Deno.open(path, { read: true });
    head = new Uint8Array(MAGIC.length);
    head = head.subarray(0, await file.read(head) ?? 0);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  // A prefix of the magic (a torn creation) is an empty 0.2 log.
  if (!head.every((byte, i) => byte === MAGIC[i])) {
    throw new Error(`${path} is not a metrics log; move it away`);
  }
  return path;
}

/**
 * Deletes what an interrupted conversion wrote: the segments marked
 * `converted`, every WAL file and every checkpoint. Returns the segments
 * left.
 */
export async function undoConversion(
  dir: string,
  segments: readonly ReadSegment[],
): Promise<ReadSegment[]> {
  const converted = segments.filter((s) => s.footer.kind === "converted");
  await removeAll(segmentsDir(dir), converted.map((s) => s.path));
  const { wal, checkpoints } = await listWal(dir);
  await removeAll(walDir(dir), [
    ...wal.map((n) => walPath(dir, n)),
    ...checkpoints.map((n) => checkpointPath(dir, n)),
  ]);
  return segments.filter((s) => s.footer.kind !== "converted");
}

/**
 * Replays the 0.2 log at `path` into `visit`; returns the puts read and
 * the damaged stretches skipped. A damaged log is copied aside and
 * reported, every good frame replayed.
 */
export async function replayLegacy(
  path: string,
  visit: PointVisitor,
  log: (message: string) => void,
): Promise<{ points: number; damaged: number }> {
  using file = await Deno.open(path, { read: true });
  const scan = await readLog(file, visit);
  if (scan.skipped.length > 0) {
    const copy = await copyAside(path, "damaged");
    log(
      `warning: ${path}: ${scan.problem} at byte ${
        scan.skipped[0].from
      }; converted every good frame around the damage; the damaged log is kept as ${copy}`,
    );
  }
  return { points: scan.pointCount, damaged: scan.skipped.length };
}

/**
 * Converts the 0.2 log at `path`, already replayed into memory: `writer`
 * writes the checkpoint `cut` takes, its segments marked `converted`; then
 * the log is renamed to `metrics.log.v0.2-<time>` and the directory
 * fsynced, which ends the conversion. `log` hears where the log went.
 */
export async function convertLegacy(
  path: string,
  cut: () => Promise<CheckpointState>,
  writer: CheckpointWriter,
  log: (message: string) => void,
): Promise<void> {
  await writer.write(await cut(), "converted");
  const time = new Date().toISOString().replaceAll(":", "-");
  const kept = `${path}.v0.2-${time}`;
  await Deno.rename(path, kept);
  await syncDirectory(path.slice(0, path.lastIndexOf("/")));
  log(
    `converted ${path} to segments; the 0.2 log is kept as ${kept}, to delete by hand`,
  );
}
