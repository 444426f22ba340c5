/**
 * One compaction's file work, as the compaction worker (`worker.ts`) does
 * it off the server's event loop: read the day's segments, merge them
 * (`merge_day.ts`), and write the output to its `*.tmp`, forced to disk.
 * Putting it in place and deleting the inputs is the main side's
 * (`compactor.ts`).
 *
 * @module
 */

import { releaseBuffer } from "../../../../internal/release.ts";
import type { ExpiryMark } from "../expiry.ts";
import { writeSynced } from "../files.ts";
import { decodeSegment, encodeSegment } from "../segment_format.ts";
import { compactDay, type DayInput } from "./merge_day.ts";

/** What a compaction is to do: plain data, so it can be posted to a worker. */
export interface CompactionJob {
  /** The day's segments to merge. */
  readonly inputs: readonly { path: string; sequence: number }[];
  /** The output's sequence, reserved when the inputs were listed. */
  readonly sequence: number;
  /** The expiry mark then: chunks it deletes are left out. */
  readonly mark: ExpiryMark;
  /** Where to write the output (renamed into place later). */
  readonly temp: string;
}

/** What a compaction wrote. */
export interface CompactionOutput {
  /** Points in the output. */
  readonly points: number;
  /** Its chunks. */
  readonly chunks: number;
  /** Its newest timestamp (`-Infinity` when it holds none). */
  readonly last: number;
  /** Bytes of the output. */
  readonly bytes: number;
  /** Bytes of the inputs. */
  readonly inputBytes: number;
  /**
   * The output's bytes, as written: the main side can put its chunks in
   * memory without reading the file back.
   */
  readonly segment: Uint8Array<ArrayBuffer>;
}

/**
 * Reads `job`'s inputs, merges them and writes the output to `job.temp`,
 * fsynced.
 *
 * @throws {Error} when an input is damaged or is not the segment listed
 * (it is left for start-up to report and mend), or the output cannot be
 * written (the `*.tmp` is deleted).
 */
export async function runCompaction(
  job: CompactionJob,
): Promise<CompactionOutput> {
  const inputs: DayInput[] = [];
  const files: Uint8Array<ArrayBuffer>[] = [];
  let inputBytes = 0;
  for (const { path, sequence } of job.inputs) {
    const file = await Deno.readFile(path);
    files.push(file);
    inputBytes += file.length;
    const { footer, records, damage } = decodeSegment(file);
    if (damage.length > 0 || footer?.sequence !== sequence) {
      const problem = damage[0]?.problem ?? "another sequence";
      throw new Error(`${path} is not the segment written (${problem})`);
    }
    inputs.push({ sequence, records });
  }
  const day = compactDay(inputs, job.mark);
  // Its chunks are encoded afresh: the inputs go before the output is built.
  for (const file of files) releaseBuffer(file);
  const bytes = encodeSegment(day.chunks, {
    sequence: job.sequence,
    kind: "segment",
    replaces: job.inputs.map((input) => input.sequence),
  });
  await writeSynced(job.temp, bytes);
  return {
    points: day.points,
    chunks: day.chunks.length,
    last: day.last,
    bytes: bytes.length,
    inputBytes,
    segment: bytes,
  };
}
