/**
 * The seal worker: encodes the heads posted to it (`seal_queue.ts`) into
 * chunks on its own thread, so the main thread goes on parsing and storing
 * puts, and posts back every chunk's bytes in one buffer. Pure but for its
 * message port.
 *
 * @module
 */

import { encodeChunk } from "../chunk/chunk.ts";
import { withRoom } from "../../../internal/grow.ts";
import type { SealJob, SealReply } from "./seal_queue.ts";

/** The worker's side of its message port. */
const port = self as unknown as {
  onmessage: ((event: MessageEvent<SealJob>) => void) | null;
  postMessage(message: SealReply, transfer: ArrayBuffer[]): void;
};

port.onmessage = ({ data }) => {
  const { first, timestamps, values, ends } = data;
  let bytes = new Uint8Array(ends.length * 128);
  const byteEnds = new Uint32Array(ends.length);
  let used = 0;
  for (let run = 0, from = 0; run < ends.length; from = ends[run++]) {
    const to = ends[run];
    const chunk = encodeChunk(
      timestamps.subarray(from, to),
      values.subarray(from, to),
    );
    bytes = withRoom(bytes, used, chunk.length);
    bytes.set(chunk, used);
    used += chunk.length;
    byteEnds[run] = used;
  }
  // Moved to the main side, not copied (detaching them here slows only
  // this thread's code); the job's shared columns go back with them, to
  // carry a later job.
  port.postMessage({ first, bytes, ends: byteEnds, spent: data }, [
    bytes.buffer,
    byteEnds.buffer,
  ]);
};
