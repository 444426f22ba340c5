/**
 * A rewrite of everything from memory (after a segment was deleted under
 * the store), read back after a restart and from the files as a kill -9
 * leaves them: series past 64Ki points over several UTC days and one-point
 * keys, every point compared with the points written, keys in first-seen
 * order.
 */

import { assert, assertEquals } from "@std/assert";
import type { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { segmentsDir } from "../../../../src/server/storage/engine/files.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { assertSameLines } from "../../../helpers/same_lines.ts";
import { openEngine } from "./open_engine.ts";
import { copyTree } from "./dir_files.ts";

/** Every point of `store` as `key timestamp value`, in key order. */
function lines(store: EngineStore): string[] {
  const out: string[] = [];
  for (const { key, timestamps, values } of store.getAll()) {
    for (let i = 0; i < timestamps.length; i++) {
      out.push(`${key} ${timestamps[i]} ${values[i]}`);
    }
  }
  return out;
}

Deno.test("a rewrite from memory keeps every point of series past 64Ki points and of one-point keys, after a restart and a kill -9", async () => {
  await using tmp = await tempDir();
  const dir = `${tmp.path}/data`;
  const messages: string[] = [];
  const open = () =>
    openEngine(dir, {
      fsync: "interval",
      watchInterval: 0.05,
      log: (message) => messages.push(message),
    });
  // The oracle: what was put, in first-seen key order, timestamps sorted.
  const expected: string[] = [];
  const points: StoredPoint[] = [];
  const lengths = [200_001, 65_535, 65_536, 65_537, 131_073, 1, 2, 3];
  lengths.forEach((length, k) => {
    for (let i = 0; i < length; i++) {
      const point = {
        key: `series.${k}`,
        timestamp: 1000 + 3 * i,
        value: i / 8 - k,
      };
      points.push(point);
      expected.push(`${point.key} ${point.timestamp} ${point.value}`);
    }
  });
  for (let k = 0; k < 5000; k++) {
    const point = { key: `one.${k}`, timestamp: 7 * k, value: -k };
    points.push(point);
    expected.push(`${point.key} ${point.timestamp} ${point.value}`);
  }
  const store = await open();
  for (let at = 0; at < points.length; at += 20_000) {
    await store.put(points.slice(at, at + 20_000));
  }
  await store.close();
  const reopened = await open();
  const segments = [...Deno.readDirSync(segmentsDir(dir))].map((e) => e.name);
  assert(segments.length >= 7, `${segments}`);
  await Deno.remove(`${segmentsDir(dir)}/${segments[3]}`);
  for (
    let i = 0;
    i < 500 && !messages.some((m) => m.startsWith("rewrote"));
    i++
  ) await new Promise((resolve) => setTimeout(resolve, 20));
  assert(messages.some((m) => m.startsWith("rewrote")), messages.join("\n"));
  await copyTree(dir, `${tmp.path}/killed`);
  await reopened.close();
  for (const path of [dir, `${tmp.path}/killed`]) {
    const again = await openEngine(path);
    try {
      assertSameLines(lines(again), expected, path);
    } finally {
      await again.close();
    }
  }
  assertEquals(
    messages.filter((m) => m.startsWith("warning")).length,
    1,
    messages.join("\n"),
  );
});
