/**
 * The text of an import's input as pieces of whole lines, decoded once a
 * read, for the lines to be parsed in place. No I/O of its own: it reads
 * the stream it is given.
 *
 * @module
 */

import { withRoom } from "../internal/grow.ts";

const NL = 0x0a;

/**
 * The text of `stream` in pieces of whole lines, each `\n` included (the
 * last piece may lack it), a read's worth at a time: the lines are then
 * read in place, never split into strings of their own (an await per
 * line, or a string per line, would cost more than sending the point). A
 * piece is decoded at once, so it is one flat string. The pieces end
 * early, cleanly, when `signal` aborts.
 */
export async function* wholeLines(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<string> {
  const reader = stream.getReader();
  const stop = (): void => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", stop, { once: true });
  // A `\n` byte is never inside a longer UTF-8 sequence, so pieces that
  // end after one decode alone; one decoder drops a BOM at the start only.
  const decoder = new TextDecoder();
  let buf = new Uint8Array(64 * 1024);
  let length = 0;
  try {
    while (!signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      buf = withRoom(buf, length, value.length);
      buf.set(value, length);
      const scanFrom = length;
      length += value.length;
      const end = buf.subarray(scanFrom, length).lastIndexOf(NL) + 1;
      if (end === 0) continue;
      yield decoder.decode(buf.subarray(0, scanFrom + end), { stream: true });
      buf.copyWithin(0, scanFrom + end, length);
      length -= scanFrom + end;
    }
    if (length > 0 && !signal.aborted) {
      yield decoder.decode(buf.subarray(0, length));
    }
  } finally {
    signal.removeEventListener("abort", stop);
    await reader.cancel(); // closes the file when the import stops early
  }
}
