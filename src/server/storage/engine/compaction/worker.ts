/**
 * The compaction worker: runs each {@link CompactionJob} posted to it
 * (`job.ts`) on its own thread, so decoding, merging and encoding a day
 * never holds up the server's connections, and posts back a
 * {@link CompactionReply}.
 *
 * @module
 */

import { type CompactionJob, runCompaction } from "./job.ts";
import type { CompactionReply } from "./worker_client.ts";

/** The worker's side of its message port. */
const port = self as unknown as {
  onmessage: ((event: MessageEvent<CompactionJob>) => void) | null;
  postMessage(message: CompactionReply): void;
};

port.onmessage = async ({ data }) => {
  try {
    port.postMessage({ output: await runCompaction(data) });
  } catch (error) {
    port.postMessage({
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
