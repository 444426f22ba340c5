/**
 * Which UTC days a compaction merges, and in what order. Pure.
 *
 * A day is due once it is over by the wall clock (its end is past) and
 * it has two or more segments, or one that no compaction wrote of at
 * least {@link LARGE_SEGMENT_BYTES} (its chunks are the 120-point ones a
 * checkpoint seals: a backfill writes one segment a day and a
 * checkpoint; a smaller one would save a few kilobytes). A day not over
 * yet (today, or points stamped in the future) is due only once it holds
 * more than {@link MOST_OPEN_SEGMENTS} segments: it is still being
 * written, and each compaction rewrites the whole day. So is a day that
 * is over but got a segment lately (`recent`): a backfill or a replay
 * writing into it would otherwise have the whole day rewritten after each
 * checkpoint. Oldest day first, so a backfill over a year is merged a day
 * at a time in order.
 *
 * @module
 */

import type { SegmentOnDisk } from "../checkpoint.ts";
import { parseSegmentName } from "../files.ts";
import { DAY_SECONDS } from "../sealed.ts";

/** Segments a day still being written may hold before it is compacted. */
export const MOST_OPEN_SEGMENTS = 8;

/**
 * Bytes from which a day's only segment is compacted: about 12,000
 * points in 120-point chunks, of which compaction saves about a quarter.
 */
export const LARGE_SEGMENT_BYTES = 16 * 1024;

/** A day to compact and its segments, oldest sequence first. */
export interface DuePlan {
  /** The UTC day (`Math.floor(seconds / DAY_SECONDS)`). */
  readonly day: number;
  /** Its segments, in sequence order. */
  readonly segments: readonly SegmentOnDisk[];
}

/**
 * The days of `segments` due for a compaction at `now` (Unix seconds),
 * oldest first; `bytesOf` tells a segment's size where it is known, and
 * `recent` whether a segment was written too lately for its day to be
 * merged yet (a day with more than {@link MOST_OPEN_SEGMENTS} is merged
 * anyway).
 */
export function dueDays(
  segments: Iterable<SegmentOnDisk>,
  now: number,
  bytesOf: (segment: SegmentOnDisk) => number | undefined,
  recent: (segment: SegmentOnDisk) => boolean = () => false,
): DuePlan[] {
  const due: DuePlan[] = [];
  for (const [day, list] of segmentsByDay(segments)) {
    const over = (day + 1) * DAY_SECONDS <= now;
    const merges = list.length >= 2 ||
      (list[0].compacted !== true &&
        (bytesOf(list[0]) ?? 0) >= LARGE_SEGMENT_BYTES);
    const settled = !list.some(recent);
    if (over && merges && settled || list.length > MOST_OPEN_SEGMENTS) {
      due.push({
        day,
        segments: list.sort((a, b) => a.sequence - b.sequence),
      });
    }
  }
  return due.sort((a, b) => a.day - b.day);
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
