/**
 * Heap and typed-array memory retained per key by a {@link MemoryStore}
 * (option `store: "memory"`, the default) or a {@link ChunkStore}
 * (`"chunk"`) of 200,000 one-point keys whose names are sliced from
 * request lines, as the server's are. Run by memory_test.ts and
 * engine/store_test.ts with `--expose-gc`.
 *
 * @module
 */

import { MemoryStore } from "../../../src/server/storage/memory.ts";
import { ChunkStore } from "../../../src/server/storage/engine/store.ts";
import {
  probeOptions,
  report,
  retainedHeapMiB,
} from "../../reliability/probe.ts";

const KEYS = 200_000;
/** Heap plus typed-array memory (the shared column lives outside the heap). */
const retainedMiB = (): number =>
  retainedHeapMiB() + Deno.memoryUsage().external / 2 ** 20;
const before = retainedMiB();
const { store: kind = "memory" } = probeOptions<{ store?: string }>();
const store = kind === "chunk" ? new ChunkStore() : new MemoryStore();
for (let from = 0; from < KEYS; from += 2000) {
  // One decoded read of many lines, as the line reader makes.
  const lines = Array.from(
    { length: 2000 },
    (_, i) => `put host.example.cpu.${from + i} 0.5 1700000000\n`,
  ).join("");
  for (let at = 0; at < lines.length;) {
    const end = lines.indexOf("\n", at);
    const line = lines.slice(at, end);
    store.upsert(line.slice(4, line.indexOf(" ", 4)), 1700000000, 0.5);
    at = end + 1;
  }
}
const bytesPerKey = (retainedMiB() - before) * 2 ** 20 / store.keyCount;
// A figure from a store that lost points is no figure: read every key back.
let lost = 0;
for (let i = 0; i < KEYS; i++) {
  const series = store.get(`host.example.cpu.${i}`);
  if (
    series?.timestamps.length !== 1 || series.timestamps[0] !== 1700000000 ||
    series.values[0] !== 0.5
  ) lost++;
}
report({ bytesPerKey, keys: store.keyCount, lost });
