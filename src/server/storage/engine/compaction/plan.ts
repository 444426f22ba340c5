/**
 * Which UTC days a compaction merges, and in what order. Pure.
 *
 * A day is due once it is over by the wall clock (its end is past) and
 * it has two or more segments, or one that no compaction wrote of at
 * least {@link LARGE_SEGMENT_BYTES} (its chunks are the 120-point ones a
 * checkpoint seals: a backfill writes one segment a day and a
 * checkpoint; a smaller one would save a few kilobytes); then all its
 * segments are merged. A day still being written (today, points stamped
 * in the future, or a day over that got a segment lately: a backfill or
 * a replay writing into it) is merged in steps instead, so that it is not
 * rewritten whole after every few checkpoints: once more than
 * {@link MOST_OPEN_SEGMENTS} of its newest segments are checkpoints' (no
 * compaction wrote them), those alone are merged; once more than
 * {@link MOST_OPEN_SEGMENTS} are compactions' outputs, the whole day. So a
 * day holds at most about twice {@link MOST_OPEN_SEGMENTS} segments while
 * it is written, and each point is merged about twice, not once every
 * {@link MOST_OPEN_SEGMENTS} checkpoints. Only the newest segments are
 * ever merged without the rest: the output takes a sequence newer than
 * theirs, and no segment of the day is newer than they are, so the order
 * in which rewrites win stays as it was. Oldest day first, so a backfill
 * over a year is merged a day at a time in order.
 *
 * @module
 */

import type { SegmentOnDisk } from "../checkpoint.ts";
import { parseSegmentName } from "../files.ts";
import { DAY_SECONDS } from "../sealed.ts";

/**
 * Segments of either kind (checkpoints', compactions') a day still being
 * written may hold before they are merged.
 */
export const MOST_OPEN_SEGMENTS = 8;

/**
 * Bytes from which a day's only segment is compacted: about 12,000
 * points in 120-point chunks, of which compaction saves about a quarter.
 */
export const LARGE_SEGMENT_BYTES = 16 * 1024;

/** A day to compact and the segments to merge, oldest sequence first. */
export interface DuePlan {
  /** The UTC day (`Math.floor(seconds / DAY_SECONDS)`). */
  readonly day: number;
  /**
   * Whether every segment of the day is merged, or only its newest ones
   * that no compaction wrote ({@link newestWritten}).
   */
  readonly whole: boolean;
  /** The segments to merge, in sequence order. */
  readonly segments: readonly SegmentOnDisk[];
}

/**
 * The days of `segments` due for a compaction at `now` (Unix seconds),
 * oldest first; `bytesOf` tells a segment's size where it is known, and
 * `recent` whether a segment was written too lately for its day to be
 * merged whole yet.
 */
export function dueDays(
  segments: Iterable<SegmentOnDisk>,
  now: number,
  bytesOf: (segment: SegmentOnDisk) => number | undefined,
  recent: (segment: SegmentOnDisk) => boolean = () => false,
): DuePlan[] {
  const due: DuePlan[] = [];
  for (const [day, unsorted] of segmentsByDay(segments)) {
    const list = unsorted.sort((a, b) => a.sequence - b.sequence);
    const over = (day + 1) * DAY_SECONDS <= now;
    const merges = list.length >= 2 ||
      (list[0].compacted !== true &&
        (bytesOf(list[0]) ?? 0) >= LARGE_SEGMENT_BYTES);
    if (over && merges && !list.some(recent)) {
      due.push({ day, whole: true, segments: list });
      continue;
    }
    const newest = newestWritten(list);
    if (newest.length > MOST_OPEN_SEGMENTS) {
      due.push({ day, whole: false, segments: newest });
    } else if (list.length - newest.length > MOST_OPEN_SEGMENTS) {
      due.push({ day, whole: true, segments: list });
    }
  }
  return due.sort((a, b) => a.day - b.day);
}

/**
 * The segments of one day (`list`, in sequence order) after its newest
 * one that a compaction wrote: checkpoints' segments, newer than any
 * other of the day.
 */
export function newestWritten(
  list: readonly SegmentOnDisk[],
): SegmentOnDisk[] {
  let from = list.length;
  while (from > 0 && list[from - 1].compacted !== true) from--;
  return list.slice(from);
}

/** `segments` grouped by the UTC day their names give. */
export function segmentsByDay(
  segments: Iterable<SegmentOnDisk>,
): Map<number, SegmentOnDisk[]> {
  const byDay = new Map<number, SegmentOnDisk[]>();
  for (const segment of segments) {
    const name = segment.path.slice(segment.path.lastIndexOf("/") + 1);
    const parsed = parseSegmentName(name);
    if (parsed === undefined) continue;
    const list = byDay.get(parsed.day);
    if (list === undefined) byDay.set(parsed.day, [segment]);
    else list.push(segment);
  }
  return byDay;
}
