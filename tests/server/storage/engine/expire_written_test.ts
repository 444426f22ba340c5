/**
 * A deletion of old points, in the same run as the checkpoint that wrote
 * their segments: the segment of the expired day is deleted, the segment
 * of newer points is kept, and after a restart exactly the newer points
 * read back.
 */

import { assertEquals } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { segmentsDir } from "../../../../src/server/storage/engine/files.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { namesIn } from "./dir_files.ts";
import { FakeMemory } from "./fake_memory.ts";

const DAY = 86_400;

function open(dir: string, options = {}): Promise<EngineStore> {
  return EngineStore.open(dir, new FakeMemory(8), {
    log: () => {},
    ...options,
  });
}

function lines(store: EngineStore): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
  );
}

Deno.test("a deletion removes the segment a checkpoint just wrote for the expired day, and keeps the newer day's", async () => {
  await using tmp = await tempDir();
  const store = await open(tmp.path, { checkpointPoints: 16 });
  const points = (key: string, from: number): StoredPoint[] =>
    Array.from({ length: 8 }, (_, i) => ({
      key,
      timestamp: from + i,
      value: from / 1000 + i,
    }));
  const old = points("old", 100);
  const newer = points("new", DAY + 100);
  await store.put(old);
  await store.put(newer);
  // The checkpoint the 16 puts start writes one segment a day (each a
  // `*.tmp` first: only those renamed into place count).
  const segments = async () =>
    (await namesIn(segmentsDir(tmp.path))).filter((n) => n.endsWith(".seg"));
  for (let i = 0; i < 300 && (await segments()).length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const [oldDay, newDay] = await segments();
  assertEquals([oldDay.slice(0, 10), newDay.slice(0, 10)], [
    "1970-01-01",
    "1970-01-02",
  ]);
  assertEquals(await store.expire(DAY), 8);
  assertEquals(await namesIn(segmentsDir(tmp.path)), [newDay]);
  await store.close();

  const reopened = await open(tmp.path);
  assertEquals(
    lines(reopened),
    newer.map((p) => `${p.key} ${p.timestamp} ${p.value}`),
  );
  await reopened.close();
});
