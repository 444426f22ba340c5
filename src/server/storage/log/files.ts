/**
 * The log's files on disk: the directory lock, fsync of the directory,
 * copies kept aside before anything is changed, and the snapshot a fresh
 * log starts with.
 *
 * @module
 */

import { FrameWriter } from "./format.ts";
import type { Series } from "../storage.ts";
import { writeAll } from "../../../internal/write_all.ts";

const LOCK_NAME = "metrics.lock";
/** Points of one series per frame when writing a snapshot. */
const SNAPSHOT_RUN = 64 * 1024;
/** A snapshot frame is written once it holds about this many bytes. */
const SNAPSHOT_FRAME_BYTES = 1024 * 1024;

/**
 * Takes the exclusive lock of `dir` (`metrics.lock`, an advisory `flock`)
 * and returns its handle; closing the handle releases it.
 *
 * @throws {Error} when another server holds it.
 */
export async function lockDirectory(dir: string): Promise<Deno.FsFile> {
  const lock = await Deno.open(`${dir}/${LOCK_NAME}`, {
    write: true,
    create: true,
  });
  if (!await lock.tryLock(true)) {
    lock.close();
    throw new Error(`${dir} is in use by another metrics server`);
  }
  return lock;
}

/** Forces a directory's entries (a rename, a new file) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/**
 * Copies the file at `path` to `<path>.<what>-<time>` before it is changed;
 * returns the copy's path.
 */
export async function copyAside(path: string, what: string): Promise<string> {
  const time = new Date().toISOString().replaceAll(":", "-");
  const copy = `${path}.${what}-${time}`;
  await Deno.copyFile(path, copy);
  return copy;
}

/** Ignores a missing file, rethrows anything else. */
export function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}

/**
 * Writes every point of `series` to `file` as frames; returns how many.
 * Reads fresh views of each series per run, since a series may grow
 * while a frame is being written.
 */
export async function writeSnapshot(
  file: Deno.FsFile,
  series: Iterable<Series>,
): Promise<number> {
  const frame = new FrameWriter();
  let written = 0;
  const flush = async (): Promise<void> => {
    written += frame.pointCount;
    await writeAll(file, frame.take());
  };
  for (const one of series) {
    for (let from = 0; from < one.timestamps.length; from += SNAPSHOT_RUN) {
      const { timestamps, values } = one;
      const to = Math.min(from + SNAPSHOT_RUN, timestamps.length);
      frame.appendRun(one.key, timestamps, values, from, to);
      if (frame.byteLength >= SNAPSHOT_FRAME_BYTES) await flush();
    }
  }
  if (frame.pointCount > 0) await flush();
  return written;
}
