/**
 * A deletion while a failed checkpoint's chunks wait to be written: a
 * chunk whose newest point is exactly at the deletion's bound still holds
 * a point that is kept, so it is written by the next checkpoint and reads
 * back after a restart.
 */

import { assert, assertEquals } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { segmentsDir } from "../../../../src/server/storage/engine/files.ts";
import { tempDir } from "../../../helpers/server.ts";
import { FakeMemory } from "./fake_memory.ts";

Deno.test("a chunk waiting after a failed checkpoint keeps its point at the deletion's bound", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const store = await EngineStore.open(tmp.path, new FakeMemory(8), {
    checkpointPoints: 8,
    log: (message) => messages.push(message),
  });
  // Segments cannot be made while `segments` is a file.
  const segments = segmentsDir(tmp.path);
  await Deno.remove(segments, { recursive: true });
  await Deno.writeTextFile(segments, "in the way");
  // Seconds 100..107: sealed into one chunk, taken by a checkpoint that fails.
  for (let i = 0; i < 8; i++) {
    await store.put([{ key: "k", timestamp: 100 + i, value: i / 4 }]);
  }
  for (
    let i = 0;
    i < 200 && !messages.some((m) => m.startsWith("warning: cannot write"));
    i++
  ) await new Promise((resolve) => setTimeout(resolve, 10));
  assert(messages.some((m) => m.startsWith("warning: cannot write")));
  // Deletes seconds 100..106; second 107 is kept.
  assertEquals(await store.expire(107), 7);
  await Deno.remove(segments);
  await Deno.mkdir(segments);
  await store.close();

  const reopened = await EngineStore.open(tmp.path, new FakeMemory(8), {
    log: () => {},
  });
  const kept = reopened.getRange("k", 107, Infinity);
  assertEquals(
    kept && Array.from(kept.timestamps, (t, i) => [t, kept.values[i]]),
    [[107, 7 / 4]],
  );
  await reopened.close();
});
