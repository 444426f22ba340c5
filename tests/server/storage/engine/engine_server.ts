/**
 * A metrics server on the storage engine's durable store with the tests'
 * {@link FakeMemory}, for kill -9 tests until `metrics serve --data` runs
 * the engine. Arguments: the data directory, `checkpointPoints`, and the
 * memory's `sealAt`. Prints its pid first (`pid <n>`: it may run under
 * strace), then `listening on 127.0.0.1:<port>`.
 *
 * @module
 */

import { serve } from "../../../../src/server/mod.ts";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { FakeMemory } from "./fake_memory.ts";

console.log(`pid ${Deno.pid}`);
const [dir, checkpointPoints, sealAt] = Deno.args;
const storage = await EngineStore.open(dir, new FakeMemory(Number(sealAt)), {
  checkpointPoints: Number(checkpointPoints),
});
const server = await serve({ port: 0, storage, log: console.error });
console.log(`listening on 127.0.0.1:${server.port}`);
