/**
 * The answer to `get key` and `get *`, written in bounded pieces: the
 * caller's `pace` runs between pieces (it writes out and gives the event
 * loop back), so a huge answer never sits whole in memory nor holds up
 * other connections.
 *
 * @module
 */

import {
  DATA_LINE_EXTRA_BYTES,
  writeDataLines,
} from "../protocol/data_lines.ts";
import type { OutputBuffer } from "./output.ts";
import { lowerBound } from "./storage/range.ts";
import type { Series, Storage } from "./storage/storage.ts";

/** Bytes of data lines written at a time. */
const PIECE_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/**
 * Appends the answer of `get key` to `out`, from `ok` to its empty line;
 * `pace` hears how many bytes each piece added.
 */
export async function answerGet(
  storage: Storage,
  key: string,
  out: OutputBuffer,
  pace: (bytes: number) => Promise<void>,
): Promise<void> {
  out.appendText("ok\n");
  if (key === "*") {
    // A live iterator: keys added meanwhile are visited too.
    for (const series of await storage.getAll()) {
      await writeSeries(series, out, pace);
    }
  } else {
    const series = await storage.get(key);
    if (series !== undefined) await writeSeries(series, out, pace);
  }
  out.appendText("\n");
}

/**
 * Appends the data lines of `series` piece by piece. The series may change
 * while a piece is written: each piece resumes after the last timestamp
 * written, so the answer stays sorted with one line per timestamp.
 */
async function writeSeries(
  series: Series,
  out: OutputBuffer,
  pace: (bytes: number) => Promise<void>,
): Promise<void> {
  const key = encoder.encode(series.key);
  let from = 0;
  for (;;) {
    let next = from;
    const before = out.length;
    out.fill(PIECE_BYTES + key.length + DATA_LINE_EXTRA_BYTES, (buf, at) => {
      const written = writeDataLines(
        buf,
        at,
        at + PIECE_BYTES,
        key,
        series,
        from,
      );
      next = written.next;
      return written.at;
    });
    const done = next >= series.timestamps.length;
    const last = series.timestamps[next - 1];
    await pace(out.length - before);
    if (done) return;
    // Resume after the last second written (whole seconds: `last + 1`),
    // so puts that land meanwhile never repeat or reorder a line.
    from = lowerBound(series.timestamps, last + 1);
  }
}
