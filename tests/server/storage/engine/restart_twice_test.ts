/**
 * Two kill -9s in a row, each before any checkpoint: the start after the
 * first appends to a new WAL file, never over the one it replayed, so the
 * start after the second reads back the puts of both runs.
 */

import { assertEquals } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { copyTree } from "./dir_files.ts";
import { FakeMemory } from "./fake_memory.ts";

function open(dir: string): Promise<EngineStore> {
  return EngineStore.open(dir, new FakeMemory(8), {
    checkpointPoints: 1e9,
    log: () => {},
  });
}

function lines(store: EngineStore): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
  ).sort();
}

Deno.test("the puts of two runs each ended by a kill -9 all read back", async () => {
  await using tmp = await tempDir();
  const runs: StoredPoint[][] = [
    [{ key: "a", timestamp: 10, value: 1 }, {
      key: "b",
      timestamp: 11,
      value: 2,
    }],
    [{ key: "a", timestamp: 12, value: 3 }, {
      key: "c",
      timestamp: 13,
      value: 4,
    }],
  ];
  let dir = `${tmp.path}/0`;
  for (const [i, points] of runs.entries()) {
    const store = await open(dir);
    await store.put(points);
    // What a kill -9 leaves: the puts in the WAL only.
    const killed = `${tmp.path}/${i + 1}`;
    await copyTree(dir, killed);
    await store.close();
    dir = killed;
  }
  const store = await open(dir);
  assertEquals(
    lines(store),
    runs.flat().map((p) => `${p.key} ${p.timestamp} ${p.value}`).sort(),
  );
  await store.close();
});
