/**
 * The compaction worker: runs each batch of {@link CompactionJob}s
 * posted to it (`job.ts`) on its own thread, one day after another (so
 * it holds one day at a time), so decoding, merging and encoding never
 * holds up the server's connections, and posts back a
 * {@link CompactionReply}.
 *
 * @module
 */

import { type CompactionJob, runCompaction } from "./job.ts";
import type { CompactionReply, CompactionResult } from "./worker_client.ts";

/** The worker's side of its message port. */
const port = self as unknown as {
  onmessage: ((event: MessageEvent<readonly CompactionJob[]>) => void) | null;
  postMessage(message: CompactionReply, transfer: ArrayBuffer[]): void;
};

port.onmessage = async ({ data }) => {
  const results: CompactionResult[] = [];
  for (const job of data) {
    try {
      results.push({ output: await runCompaction(job) });
    } catch (error) {
      results.push({
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  // The outputs' bytes move to the main side, not copied.
  const transfer = results.flatMap((result) =>
    "output" in result ? [result.output.segment.buffer] : []
  );
  port.postMessage({ results }, transfer);
};
