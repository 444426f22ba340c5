/**
 * The storage engine never detaches a buffer on the main thread: no
 * transfer to a worker, no `ArrayBuffer.prototype.transfer`. The first
 * detached buffer makes V8 drop the isolate's optimized code that reads
 * typed arrays and check every such read from then on, which cost about a
 * tenth of an ingest's CPU (docs/storage-engine.md, "Memory"). Workers may
 * detach: each is an isolate of its own.
 */

import { assert, assertEquals } from "@std/assert";
import { KeySeries } from "../../../../src/server/storage/engine/key_series.ts";
import { DAY_SECONDS } from "../../../../src/server/storage/engine/sealed.ts";
import { tempDir } from "../../../helpers/server.ts";
import { pairs } from "./expected_store.ts";
import { openEngine } from "./open_engine.ts";

const FIRST_DAY = 19_675; // 2023-11-14
const DAYS = 3;
const KEYS = 100;
/** Points of each key a day: one every 864 s. */
const PER_DAY = 100;

/**
 * Runs `body` with every way the main thread could detach a buffer
 * wrapped; returns where each detaching call came from.
 */
async function detachingCalls(body: () => Promise<void>): Promise<string[]> {
  const calls: string[] = [];
  const where = (what: string) =>
    calls.push(`${what}: ${new Error().stack?.split("\n")[3]?.trim()}`);
  const { transfer, transferToFixedLength } = ArrayBuffer.prototype;
  const post = Worker.prototype.postMessage;
  const clone = globalThis.structuredClone;
  ArrayBuffer.prototype.transfer = function (length?: number) {
    where("ArrayBuffer.transfer");
    return transfer.call(this, length);
  };
  ArrayBuffer.prototype.transferToFixedLength = function (length?: number) {
    where("ArrayBuffer.transferToFixedLength");
    return transferToFixedLength.call(this, length);
  };
  Worker.prototype.postMessage = function (
    this: Worker,
    message: unknown,
    options?: Transferable[] | StructuredSerializeOptions,
  ) {
    const list = Array.isArray(options) ? options : options?.transfer;
    if (list !== undefined && list.length > 0) where("Worker.postMessage");
    return Reflect.apply(post, this, [message, options]);
  } as typeof post;
  globalThis.structuredClone =
    ((value: unknown, options?: { transfer?: [] }) => {
      if ((options?.transfer?.length ?? 0) > 0) where("structuredClone");
      return clone(value, options);
    }) as typeof structuredClone;
  try {
    await body();
  } finally {
    Object.assign(ArrayBuffer.prototype, { transfer, transferToFixedLength });
    Worker.prototype.postMessage = post;
    globalThis.structuredClone = clone;
  }
  return calls;
}

Deno.test("an ingest through the seal worker, checkpoints, compactions and a WAL frame let go detaches no buffer on the main thread", async () => {
  await using tmp = await tempDir();
  // Told only of chunks the seal worker encoded.
  const sealed = KeySeries.prototype.sealed;
  let fromWorker = 0;
  KeySeries.prototype.sealed = function (run, bytes) {
    fromWorker++;
    sealed.call(this, run, bytes);
  };
  const calls = await detachingCalls(async () => {
    const store = await openEngine(tmp.path, {
      headPoints: 8,
      checkpointPoints: 20_000,
      compactionClock: () => (FIRST_DAY + DAYS + 1) * DAY_SECONDS,
    });
    try {
      // Every key's points in time order, a few steps of every key a put,
      // as collectors send them: the seal worker takes the full heads.
      for (let i = 0; i < DAYS * PER_DAY; i += 10) {
        const batch = [];
        for (let step = i; step < i + 10; step++) {
          for (let k = 0; k < KEYS; k++) {
            batch.push({
              key: `k${k}`,
              timestamp: FIRST_DAY * DAY_SECONDS + 864 * step,
              value: (k * 7 + step) / 4,
            });
          }
        }
        await store.put(batch);
        // Time for the worker's chunks to come back before a checkpoint
        // takes every head (which would encode them here).
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // A frame past 1 MB, let go once the puts pause.
      await store.put(
        Array.from({ length: 120_000 }, (_, i) => ({
          key: "big",
          timestamp: FIRST_DAY * DAY_SECONDS + i,
          value: i / 8,
        })),
      );
      await store.compact();
      assert(store.compactions > 0, "no day was compacted");
      for (const k of [0, KEYS - 1]) {
        const got = pairs(store.get(`k${k}`));
        assertEquals(got.length, DAYS * PER_DAY);
        assertEquals(got[DAYS * PER_DAY - 1], [
          FIRST_DAY * DAY_SECONDS + 864 * (DAYS * PER_DAY - 1),
          (k * 7 + DAYS * PER_DAY - 1) / 4,
        ]);
      }
      assertEquals(pairs(store.get("big")).length, 120_000);
    } finally {
      await store.close();
    }
  }).finally(() => KeySeries.prototype.sealed = sealed);
  assertEquals(calls, [], "buffers detached on the main thread");
  assert(fromWorker > 0, "the seal worker encoded no chunk");
});
