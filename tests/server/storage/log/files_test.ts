/**
 * The snapshot a compaction writes (`writeSnapshot`), read back after a
 * restart: series longer than one snapshot run (64Ki points) and
 * one-point keys, every point compared with the points written.
 */

import { assertMatch } from "@std/assert";
import { LogStore } from "../../../../src/server/storage/log/store.ts";
import type {
  Storage,
  StoredPoint,
} from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { assertSameLines } from "../../../helpers/same_lines.ts";

/** Every point of `storage` as `key timestamp value`, in key order. */
async function lines(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for (const { key, timestamps, values } of await storage.getAll()) {
    for (let i = 0; i < timestamps.length; i++) {
      out.push(`${key} ${timestamps[i]} ${values[i]}`);
    }
  }
  return out;
}

Deno.test("a compaction's snapshot keeps every point of series past 64Ki points and of one-point keys, across a restart", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const open = () =>
    LogStore.open(tmp.path, {
      compactMinPoints: 1000,
      fsync: "interval",
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
  // Rewrites of one point until the log holds over twice the live points:
  // the compaction then writes every point above from memory, and no put
  // after it repeats them.
  const churn = Array.from(
    { length: 20_000 },
    (_, i) => ({ key: "churn", timestamp: 1, value: i }),
  );
  for (let put = 0; put < points.length + 20_000; put += churn.length) {
    await store.put(churn);
  }
  expected.push("churn 1 19999");
  await store.close();
  assertMatch(messages.join("\n"), /compacted/);
  const reopened = await open();
  try {
    assertSameLines(await lines(reopened), expected, "after a restart");
  } finally {
    await reopened.close();
  }
});
