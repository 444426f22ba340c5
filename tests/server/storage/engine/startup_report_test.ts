/**
 * What start-up says it read: the chunks, the checkpoint's head points and
 * the WAL puts it replayed, with the points and keys they make. The counts
 * are those of the points written, and the points read back are those
 * written.
 */

import { assertEquals } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { copyTree } from "./dir_files.ts";
import { FakeMemory } from "./fake_memory.ts";

/** Opens `dir` on a memory sealing at 8 points, collecting its log. */
function open(dir: string, messages: string[]): Promise<EngineStore> {
  return EngineStore.open(dir, new FakeMemory(8), {
    checkpointPoints: 1e9,
    log: (message) => messages.push(message),
  });
}

/** `count` points of `key` from second `from` on. */
function run(key: string, from: number, count: number): StoredPoint[] {
  return Array.from(
    { length: count },
    (_, i) => ({ key, timestamp: from + i, value: from + i / 8 }),
  );
}

function lines(store: EngineStore): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
  ).sort();
}

/** The start-up report among `messages`, without its time. */
function report(messages: readonly string[]): string {
  const found = messages.filter((m) => m.startsWith("read "));
  return found.at(-1)!.replace(/ in \d+ ms$/, "");
}

Deno.test("start-up reports the chunks, head points and WAL puts it read, as written", async () => {
  await using tmp = await tempDir();
  await using copy = await tempDir();
  const written = [
    ...run("a", 1000, 10), // 8 sealed into a chunk, 2 in the head
    ...run("b", 2000, 3),
  ];
  const first = await open(tmp.path, []);
  await first.put(written);
  await first.close(); // a checkpoint: 1 segment chunk, 5 head points

  const messages: string[] = [];
  const second = await open(tmp.path, messages);
  assertEquals(
    report(messages),
    "read 1 chunk from 1 segment, 5 head points from checkpoint 1, and replayed 0 puts from 1 WAL file (13 points of 2 keys)",
  );
  const later = [...run("c", 3000, 4), ...run("b", 2003, 2)];
  await second.put(later);
  // What a kill -9 leaves: the 6 puts only in the WAL.
  await copyTree(tmp.path, copy.path);
  await second.close();

  const after: string[] = [];
  const third = await open(copy.path, after);
  assertEquals(
    report(after),
    "read 1 chunk from 1 segment, 5 head points from checkpoint 1, and replayed 6 puts from 2 WAL files (19 points of 3 keys)",
  );
  const expected = [...written, ...later].map((p) =>
    `${p.key} ${p.timestamp} ${p.value}`
  ).sort();
  assertEquals(lines(third), expected);
  await third.close();
});
