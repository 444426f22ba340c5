/**
 * The storage engine's files in a data directory, and writes that are
 * atomic:
 *
 * ```text
 * DIR/segments/<UTC day>.<sequence>.seg   sealed chunks, immutable
 * DIR/wal/<n>                             WAL files: log frames after MTRCWAL1
 * DIR/wal/checkpoint.<n>                  the head once WAL file n is done
 * DIR/expired                             what a retention deleted (expiry.ts)
 * ```
 *
 * A file is written as `*.tmp`, fsynced, renamed into place, and then its
 * directory is fsynced, so a crash leaves either the whole file or a
 * `*.tmp` that start-up deletes.
 *
 * @module
 */

import { copyAside, ignoreNotFound, syncDirectory } from "../log/files.ts";
import { DAY_SECONDS } from "./sealed.ts";
import {
  decodeSegment,
  encodeSegment,
  type SegmentFooter,
  type SegmentRecord,
} from "./segment_format.ts";
import { writeAll } from "../../../internal/write_all.ts";

/** The first bytes of every WAL file (the log's frames follow). */
export const WAL_MAGIC: Uint8Array = new TextEncoder().encode("MTRCWAL1");
const SEGMENT_NAME = /^(.+)\.(\d+)\.seg$/;
const WAL_NAME = /^(\d+)$/;
const CHECKPOINT_NAME = /^checkpoint\.(\d+)$/;
const COMPACTION_TEMP = ".compacting.tmp";
/** Digits of a number in a file name, so names sort as numbers do. */
const DIGITS = { segment: 6, wal: 8 };

/** The directory of segment files in `dir`. */
export function segmentsDir(dir: string): string {
  return `${dir}/segments`;
}

/** The directory of WAL files and checkpoints in `dir`. */
export function walDir(dir: string): string {
  return `${dir}/wal`;
}

/** The path of the segment of UTC `day` with `sequence`. */
export function segmentPath(
  dir: string,
  day: number,
  sequence: number,
): string {
  return `${segmentsDir(dir)}/${dayName(day)}.${
    padded(sequence, DIGITS.segment)
  }.seg`;
}

/** UTC `day` as segment names give it: `2024-05-01`, or `day<n>` past a Date's range. */
export function dayName(day: number): string {
  const ms = day * DAY_SECONDS * 1000;
  return Math.abs(ms) <= 8.64e15
    ? new Date(ms).toISOString().slice(0, -14)
    : `day${day}`;
}

/**
 * The UTC day and sequence of a segment file's name, as
 * {@link segmentPath} writes it; `undefined` for any other name.
 */
export function parseSegmentName(
  name: string,
): { day: number; sequence: number } | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  const numbered = /^day(-?\d+)$/.exec(match[1]);
  const day = numbered !== null
    ? Number(numbered[1])
    : Date.parse(`${match[1]}T00:00:00Z`) / (DAY_SECONDS * 1000);
  return Number.isSafeInteger(day)
    ? { day, sequence: Number(match[2]) }
    : undefined;
}

/**
 * Whether `name`, in `segments/` or `wal/`, is a file the engine writes:
 * a segment, a WAL file, a checkpoint, or a `*.tmp` being written (not a
 * copy kept aside, such as `*.damaged-<time>`).
 */
export function isEngineFile(name: string): boolean {
  return name.endsWith(".tmp") || parseSegmentName(name) !== undefined ||
    WAL_NAME.test(name) || CHECKPOINT_NAME.test(name);
}

/** Whether `name`, in `wal/`, is a WAL file (not a checkpoint). */
export function isWalFile(name: string): boolean {
  return WAL_NAME.test(name);
}

/** The path of the expiry mark (`expiry.ts`) in `dir`. */
export function expiryMarkPath(dir: string): string {
  return `${dir}/expired`;
}

/** The path of WAL file `n`. */
export function walPath(dir: string, n: number): string {
  return `${walDir(dir)}/${padded(n, DIGITS.wal)}`;
}

/** The path of the checkpoint written once WAL file `n` was done. */
export function checkpointPath(dir: string, n: number): string {
  return `${walDir(dir)}/checkpoint.${padded(n, DIGITS.wal)}`;
}

function padded(n: number, digits: number): string {
  return String(n).padStart(digits, "0");
}

/**
 * Writes `bytes` to `path` atomically: `path.tmp`, fsync, rename, fsync
 * the directory. On failure the `*.tmp` is deleted and `path` untouched.
 */
export async function writeAtomically(
  path: string,
  bytes: Uint8Array,
): Promise<void> {
  const temp = `${path}.tmp`;
  await writeSynced(temp, bytes);
  try {
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  await syncDirectory(path.slice(0, path.lastIndexOf("/")));
}

/**
 * Writes `bytes` to a new file at `path` and forces them to disk; on
 * failure the file is deleted.
 */
export async function writeSynced(
  path: string,
  bytes: Uint8Array,
): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    await writeAll(file, bytes);
    await file.syncData();
  } catch (error) {
    file.close();
    await Deno.remove(path).catch(() => {});
    throw error;
  }
  file.close();
}

/**
 * Where a compaction writes the segment at `path` before renaming it into
 * place: a `*.tmp` (start-up deletes it) that the disk budget does not
 * count ({@link isCompactionTemp}).
 */
export function compactionTemp(path: string): string {
  return `${path}${COMPACTION_TEMP}`;
}

/** Whether `name` is a compaction's output being written. */
export function isCompactionTemp(name: string): boolean {
  return name.endsWith(COMPACTION_TEMP);
}

/** A segment or checkpoint read at start-up. */
export interface ReadSegment {
  /** Its path. */
  readonly path: string;
  /** Its footer (rebuilt from the name when the footer was damaged). */
  readonly footer: SegmentFooter;
  /** Every record that checks out, in file order. */
  readonly records: readonly SegmentRecord[];
  /** Records (or other parts) found damaged and skipped. */
  readonly damaged: number;
}

/** What {@link openFiles} found in a data directory. */
export interface EngineFiles {
  /** Segments in sequence order (replaced ones deleted). */
  readonly segments: readonly ReadSegment[];
  /** Numbers of the WAL files, ascending. */
  readonly wal: readonly number[];
  /** Numbers of the checkpoints, ascending. */
  readonly checkpoints: readonly number[];
}

/**
 * Makes the engine's directories in `dir` and reads them: deletes every
 * `*.tmp` (an interrupted write) and every segment that a segment with a
 * sound footer says it replaces, and reads every other segment, damage
 * handled as {@link readSegmentFile} says.
 */
export async function openFiles(
  dir: string,
  log: (message: string) => void,
): Promise<EngineFiles> {
  const names: string[] = [];
  for (const path of [segmentsDir(dir), walDir(dir)]) {
    await Deno.mkdir(path, { recursive: true });
    const temporary: string[] = [];
    for await (const { name } of Deno.readDir(path)) {
      if (name.endsWith(".tmp")) temporary.push(`${path}/${name}`);
      else if (path === segmentsDir(dir)) names.push(name);
    }
    await removeAll(path, temporary);
  }
  const read: ReadSegment[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match === null) continue;
    const path = `${segmentsDir(dir)}/${name}`;
    read.push(await readSegmentFile(path, Number(match[2]), "segment", log));
  }
  const replaced = new Set(read.flatMap((segment) => segment.footer.replaces));
  const isReplaced = (s: ReadSegment) => replaced.has(s.footer.sequence);
  await removeAll(segmentsDir(dir), read.filter(isReplaced).map((s) => s.path));
  const segments = read.filter((segment) => !isReplaced(segment));
  segments.sort((a, b) => a.footer.sequence - b.footer.sequence);
  return { segments, ...await listWal(dir) };
}

/** The numbers of the WAL files and checkpoints in `dir`, ascending. */
export async function listWal(
  dir: string,
): Promise<{ wal: number[]; checkpoints: number[] }> {
  const wal: number[] = [];
  const checkpoints: number[] = [];
  for await (const { name } of Deno.readDir(walDir(dir))) {
    const file = WAL_NAME.exec(name);
    const checkpoint = CHECKPOINT_NAME.exec(name);
    if (file !== null) wal.push(Number(file[1]));
    else if (checkpoint !== null) checkpoints.push(Number(checkpoint[1]));
  }
  const ascending = (a: number, b: number) => a - b;
  return { wal: wal.sort(ascending), checkpoints: checkpoints.sort(ascending) };
}

/**
 * Reads a segment or checkpoint file. When damaged, reports it to `log`
 * (file, offsets, keys), copies it aside as `*.damaged-<time>`, and
 * rewrites it with the records that check out, so the damage is reported
 * once and later starts read a sound file.
 *
 * @param sequence From the file's name: used when the footer is damaged.
 * @param kind What the file holds, used when the footer is damaged.
 */
export async function readSegmentFile(
  path: string,
  sequence: number,
  kind: SegmentFooter["kind"],
  log: (message: string) => void,
): Promise<ReadSegment> {
  const decoded = decodeSegment(await Deno.readFile(path));
  const footer = decoded.footer ?? { sequence, kind, replaces: [] };
  const { records, damage } = decoded;
  if (damage.length === 0) return { path, footer, records, damaged: 0 };
  const copy = await copyAside(path, "damaged");
  const places = damage.map(({ offset, problem, key }) =>
    `${problem} at byte ${offset}${key === undefined ? "" : ` (key ${key})`}`
  );
  log(
    `warning: ${path}: ${
      places.join("; ")
    }; kept ${records.length} sound chunks and rewrote the file without the damage; the damaged file is kept as ${copy}`,
  );
  await writeAtomically(path, encodeSegment(records, footer));
  return { path, footer, records, damaged: damage.length };
}

/**
 * Deletes `paths` (missing ones ignored) and then fsyncs `dir`, so the
 * deletions are durable before anything relies on them.
 */
export async function removeAll(
  dir: string,
  paths: readonly string[],
): Promise<void> {
  if (paths.length === 0) return;
  for (const path of paths) await Deno.remove(path).catch(ignoreNotFound);
  await syncDirectory(dir);
}
