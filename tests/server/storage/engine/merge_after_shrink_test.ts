/**
 * A merge into a chunk list that just shrank: the slots past its end still
 * hold a removed chunk's fields, and a late point that fits none of the
 * live chunks becomes a chunk of its own, never joined to the removed one.
 */

import { assertEquals } from "@std/assert";
import { decodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import { ChunkList } from "../../../../src/server/storage/engine/chunk_list.ts";
import {
  encodeRun,
  mergeRun,
} from "../../../../src/server/storage/engine/merge.ts";

function run(timestamps: number[]) {
  return {
    timestamps: Float64Array.from(timestamps),
    values: Float64Array.from(timestamps, (t) => t / 8),
  };
}

function chunkOf(timestamps: number[]) {
  return encodeRun(run(timestamps), 0, timestamps.length, false);
}

/** Every point of `list`, chunk by chunk. */
function points(list: ChunkList): number[][][] {
  return Array.from({ length: list.length }, (_, c) => {
    const { timestamps, values } = decodeChunk(list.bytesOf(c));
    return Array.from(timestamps, (t, i) => [t, values[i]]);
  });
}

Deno.test("a point after a full chunk, in a list that just shrank, becomes a chunk of its own", () => {
  const list = new ChunkList();
  list.splice(0, 0, [chunkOf([100, 101]), chunkOf([200, 201])]);
  // Both replaced by one full chunk: slot 1 keeps the old fields.
  list.splice(0, 2, [chunkOf([100, 101, 102, 103])]);
  mergeRun(list, run([300]), {
    limit: 4,
    joinBelow: 2,
    loaded: false,
    onWrite: () => {},
  });
  assertEquals(points(list), [
    [[100, 12.5], [101, 12.625], [102, 12.75], [103, 12.875]],
    [[300, 37.5]],
  ]);
  assertEquals(list.points, 5);
});
