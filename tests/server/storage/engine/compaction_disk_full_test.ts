/**
 * A disk that fills up under a compaction: the data directory on a tmpfs
 * with no page left, so no compaction output can be written. The inputs
 * must stay as they were, one warning be logged, no `*.tmp` be left,
 * puts be taken (the WAL's page has room), and the compaction succeed
 * once there is room again; the compaction worker, which waits while days
 * are due, is not kept for days that failed.
 * Needs root (or CAP_SYS_ADMIN) to mount the
 * tmpfs; skipped with the reason printed when the mount is refused.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { tmpfs, TMPFS_SKIP } from "../../../helpers/tmpfs.ts";
import { skipped } from "../../../helpers/skip.ts";
import { tempDir } from "../../../helpers/server.ts";
import { copyTree, namesIn } from "./dir_files.ts";
import { openEngine } from "./open_engine.ts";
import { countingWorkers } from "./worker_count.ts";

/** 2024-10-01T00:00:00Z. */
const START = Date.UTC(2024, 9, 1) / 1000;
const KEYS = 10;
/** One point per key every 5 minutes over four days. */
const PUTS = KEYS * 4 * 288;

function put(i: number) {
  return {
    key: `k${i % KEYS}`,
    timestamp: START + Math.floor(i / KEYS) * 300,
    value: i / 4,
  };
}

/** Every point of `store` as `key timestamp value`. */
function lines(
  store: {
    getAll(): Iterable<
      { key: string; timestamps: ArrayLike<number>; values: ArrayLike<number> }
    >;
  },
): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
  ).sort();
}

/** Fills the file system of `path` until a write fails; resolves with the bytes written. */
async function fill(path: string): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true });
  const page = new Uint8Array(4096);
  let written = 0;
  try {
    // Bounded by the tmpfs's size.
    for (;;) {
      try {
        written += await file.write(page);
      } catch {
        return written;
      }
    }
  } finally {
    file.close();
  }
}

Deno.test({
  name:
    "a full disk during a compaction leaves its inputs, warns once, takes puts, and compacts once there is room",
  ignore: skipped("disk full test", TMPFS_SKIP),
  fn: () =>
    countingWorkers(async (workers) => {
      await using primed = await tempDir();
      // Four days of several segments each, none over for compaction.
      for (let i = 0; i < PUTS; i += PUTS / 8) {
        const store = await openEngine(primed.path, {
          compactionClock: () => 0,
        });
        await store.put(Array.from({ length: PUTS / 8 }, (_, j) => put(i + j)));
        await store.close();
      }
      await using disk = await tmpfs("1m");
      const dir = `${disk.path}/data`;
      await copyTree(primed.path, dir);
      const inputs = await namesIn(`${dir}/segments`);
      assert(inputs.length >= 8, `${inputs}`);
      let now = 0;
      const messages: string[] = [];
      const store = await openEngine(dir, {
        compactionClock: () => now,
        log: (m) => messages.push(m),
      });
      try {
        const expected = lines(store);
        assert(await fill(`${disk.path}/filler`) > 0);
        now = Date.now() / 1000;
        await store.compact();
        assertEquals(store.compactions, 0);
        assertEquals(store.compactionsDue, 4);
        assertEquals(await namesIn(`${dir}/segments`), inputs);
        await store.compact(); // tried again: still no room, no new warning
        const warnings = messages.filter((m) => m.startsWith("warning"));
        assertEquals(warnings.length, 1, warnings.join("\n"));
        assert(warnings[0].startsWith("warning: cannot compact"), warnings[0]);
        // The days stay due, but no worker waits for them.
        assertEquals(store.compactionsDue, 4);
        assertEquals(workers.live, 0);
        // The WAL file's page still has room: puts are taken.
        const late = { key: "late", timestamp: START, value: 1.5 };
        await store.put([late]);
        expected.push(`late ${START} 1.5`);
        expected.sort();
        assertEquals(lines(store), expected);
        await Deno.remove(`${disk.path}/filler`);
        await store.compact();
        assertEquals(store.compactions, 4);
        assertEquals(store.compactionsDue, 0);
        assert(messages.includes(`compaction of ${dir} works again`));
        assertEquals(lines(store), expected);
        await store.close();
        const reopened = await openEngine(dir, { compactionClock: () => 0 });
        try {
          assertEquals(lines(reopened), expected);
        } finally {
          await reopened.close();
        }
      } finally {
        await store.close();
      }
    }),
});
