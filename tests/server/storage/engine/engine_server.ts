/**
 * A metrics server on the storage engine as `--data` runs it (the durable
 * store on a chunk store), with checkpoints and seals far more often than
 * `--data` makes them, for the kill -9 tests. Arguments: the data
 * directory, `checkpointPoints`, the chunk store's `headPoints`,
 * `maxDiskBytes` (or `none`) and the compaction clock in Unix seconds (or
 * `now`: the wall clock). Prints its pid first (`pid <n>`: it may run
 * under strace), then `listening on 127.0.0.1:<port>`.
 *
 * @module
 */

import { serve } from "../../../../src/server/mod.ts";
import { openEngine } from "./open_engine.ts";

console.log(`pid ${Deno.pid}`);
const [dir, checkpointPoints, headPoints, maxDisk, clock] = Deno.args;
const storage = await openEngine(dir, {
  checkpointPoints: Number(checkpointPoints),
  headPoints: Number(headPoints),
  maxDiskBytes: maxDisk === undefined || maxDisk === "none"
    ? undefined
    : Number(maxDisk),
  compactionClock: clock === undefined || clock === "now"
    ? undefined
    : () => Number(clock),
  log: console.error,
});
const server = await serve({ port: 0, storage, log: console.error });
console.log(`listening on 127.0.0.1:${server.port}`);
