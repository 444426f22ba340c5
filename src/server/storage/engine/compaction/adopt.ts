/**
 * After a compaction put a day's output in place: its chunks put in memory
 * in place of the 120-point ones it merged, where memory holds nothing of
 * that day the inputs did not. The output's chunks hold a key's day in one
 * chunk (up to 8,640 points), about two thirds of the bytes, with one index
 * entry instead of 72. Pure: no I/O.
 *
 * @module
 */

import type { CheckpointWriter } from "../checkpoint.ts";
import type { ExpiryMark } from "../expiry.ts";
import type { ChunkedMemory, DayChunk } from "../sealed.ts";
import { decodeSegment } from "../segment_format.ts";
import { segmentsByDay } from "./plan.ts";

/** A day a compaction has just put in place. */
export interface InstalledDay {
  /** The UTC day. */
  readonly day: number;
  /** The output's sequence. */
  readonly sequence: number;
  /** The expiry mark when its inputs were listed. */
  readonly mark: ExpiryMark;
  /** The output's bytes. */
  readonly segment: Uint8Array;
}

/**
 * Puts `installed`'s chunks into `memory`, between file tasks, once its
 * inputs are gone; returns how many keys took them (0 where memory may
 * hold more than the inputs did). Memory's chunks of the day are all in
 * the inputs when the output is the day's only segment (any written after
 * the listing would still be there), the expiry mark is the one the
 * compaction used, and every chunk of that day memory sealed is in a
 * segment written (none waits for a checkpoint, none was dropped unwritten).
 */
export function adoptInstalled(
  memory: ChunkedMemory,
  writer: CheckpointWriter,
  installed: InstalledDay,
): number {
  const { day, sequence, mark, segment } = installed;
  const ofDay = segmentsByDay(writer.segments()).get(day) ?? [];
  if (
    writer.mark !== mark ||
    writer.writtenOfDay(day) !== memory.sealedOfDay(day) ||
    ofDay.length !== 1 || ofDay[0].sequence !== sequence
  ) return 0;
  const { footer, records, damage } = decodeSegment(segment);
  if (damage.length > 0 || footer?.sequence !== sequence) return 0;
  const chunks: DayChunk[] = records.filter((r) => r.bytes.length > 0);
  return memory.adoptDay(day, chunks);
}
