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
import {
  type Series,
  type Storage,
  StorageRefusal,
} from "./storage/storage.ts";
import { errorResponse } from "./request.ts";

/** Bytes of data lines written at a time. */
const PIECE_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/**
 * Appends the answer of `get key` to `out`, from `ok` to its empty line;
 * `pace` hears how many bytes each piece added. Where the storage refuses
 * the read (a {@link StorageRefusal}: an answer too large to take), the
 * answer is `error` with the refusal's line instead, and its reason is
 * returned. `get *` goes through {@link Storage.streamAll} when the
 * storage has it: a failure after `ok` rejects (the caller closes the
 * connection), so no answer ends short.
 */
export async function answerGet(
  storage: Storage,
  key: string,
  out: OutputBuffer,
  pace: (bytes: number) => Promise<void>,
): Promise<string | undefined> {
  if (key === "*" && storage.streamAll !== undefined) {
    return await answerStream(storage.streamAll(), out, pace);
  }
  // Nothing is written before the storage answered: a refusal comes first.
  let found: Iterable<Series> | Series | undefined;
  try {
    found = key === "*" ? await storage.getAll() : await storage.get(key);
  } catch (error) {
    return refused(error, out);
  }
  out.appendText("ok\n");
  if (key === "*") {
    // A live iterator: keys added meanwhile are visited too.
    for (const series of found as Iterable<Series>) {
      await writeSeries(series, out, pace);
    }
  } else if (found !== undefined) {
    await writeSeries(found as Series, out, pace);
  }
  out.appendText("\n");
  return undefined;
}

/**
 * The answer of `get *` from a stream of series: `ok` once the first
 * step settled (a refusal there is answered `error`), each series as it
 * comes; a later failure rejects with the answer unfinished.
 */
async function answerStream(
  all: AsyncIterable<Series>,
  out: OutputBuffer,
  pace: (bytes: number) => Promise<void>,
): Promise<string | undefined> {
  const stream = all[Symbol.asyncIterator]();
  let step: IteratorResult<Series>;
  try {
    step = await stream.next();
  } catch (error) {
    return refused(error, out);
  }
  out.appendText("ok\n");
  try {
    for (; step.done !== true; step = await stream.next()) {
      await writeSeries(step.value, out, pace);
    }
  } catch (error) {
    // The reader stops where it is (a closed connection, a failed read).
    await stream.return?.();
    throw error instanceof StorageRefusal
      ? new Error(`get * failed after its answer began: ${error.message}`, {
        cause: error,
      })
      : error;
  }
  out.appendText("\n");
  return undefined;
}

/**
 * Appends `error` with a {@link StorageRefusal}'s line and returns it;
 * rethrows any other error.
 */
function refused(error: unknown, out: OutputBuffer): string {
  if (!(error instanceof StorageRefusal)) throw error;
  out.append(errorResponse(error.message));
  return error.message;
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
