/**
 * kill -9 of a real server process in the middle of the disk budget's
 * deletions: a directory of ten days is opened with a budget of half its
 * size, so the start deletes the oldest days (each step writes the expiry
 * mark, then unlinks the day's segments), and strace holds the Nth
 * `unlink` for 200 ms while the process is killed. The next start
 * finishes the interrupted day: every day is then either wholly deleted
 * (the oldest ones) or whole, and the newest days are all there.
 */

import { assert, assertEquals } from "@std/assert";
import { DiskUsageReader } from "../../../../src/server/storage/engine/disk_budget.ts";
import type { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { tempDir } from "../../../helpers/server.ts";
import { skipped } from "../../../helpers/skip.ts";
import { openEngine } from "./open_engine.ts";
import { runUntilKilled, STRACE_SKIP } from "./kill_under_strace.ts";

const DAY = 86_400;
/** 2025-01-01T00:00:00Z. */
const START = Date.UTC(2025, 0, 1) / 1000;
const KEYS = 20;
const DAYS = 10;
/** One point per key every half hour. */
const PUTS = KEYS * DAYS * 48;
/** No day is over for compaction: only the budget unlinks. */
const SCRIPT = { checkpointPoints: 200, headPoints: 8, compactionClock: 0 };
const OPTIONS = {
  checkpointPoints: SCRIPT.checkpointPoints,
  headPoints: SCRIPT.headPoints,
  compactionClock: () => 0,
};

function put(i: number): { key: string; timestamp: number; value: number } {
  return {
    key: `k${i % KEYS}`,
    timestamp: START + Math.floor(i / KEYS) * 1800,
    value: i / 4,
  };
}

/**
 * Writes the ten days as the server would, with no budget, reopening the
 * store every 6 hours of points: each close writes a segment, so a day
 * has about four.
 */
async function prime(dir: string): Promise<void> {
  for (let i = 0; i < PUTS; i += KEYS * 12) {
    const store = await openEngine(dir, OPTIONS);
    await store.put(Array.from({ length: KEYS * 12 }, (_, j) => put(i + j)));
    await store.close();
  }
}

/**
 * Each day's state in `store`: `deleted` (none of its points), `whole`
 * (every point, with its value), or what is wrong with it.
 */
function days(store: EngineStore): string[] {
  const states: string[] = [];
  for (let day = 0; day < DAYS; day++) {
    let found = 0;
    const wrong: string[] = [];
    for (let i = day * KEYS * 48; i < (day + 1) * KEYS * 48; i++) {
      const { key, timestamp, value } = put(i);
      const series = store.getRange(key, timestamp, timestamp);
      if (!series?.timestamps.length) continue;
      found++;
      if (series.values[0] !== value) wrong.push(`${key}@${timestamp}`);
    }
    states.push(
      wrong.length > 0
        ? `day ${day}: wrong values at ${wrong.slice(0, 3)}`
        : found === 0
        ? "deleted"
        : found === KEYS * 48
        ? "whole"
        : `day ${day}: ${found} of ${KEYS * 48} points`,
    );
  }
  return states;
}

/** The number of segment files of each day on disk, by its date. */
async function segmentsPerDay(dir: string): Promise<Map<string, number>> {
  const perDay = new Map<string, number>();
  for await (const { name } of Deno.readDir(`${dir}/segments`)) {
    if (!name.endsWith(".seg")) continue;
    perDay.set(name.slice(0, 10), (perDay.get(name.slice(0, 10)) ?? 0) + 1);
  }
  return perDay;
}

/** The date whose end the expiry mark of `dir` deletes up to. */
async function markedDay(dir: string): Promise<string> {
  const before = Number(
    (await Deno.readTextFile(`${dir}/expired`)).split(" ")[1],
  );
  return new Date((before - DAY) * 1000).toISOString().slice(0, 10);
}

/**
 * Where the Nth unlink falls: a step writes the mark, then unlinks the
 * day's segments. Moments: the first segment of the first day, its last
 * (the day done), the first of the second day, and one in the middle of
 * the second day; `midDay` when the marked day still has segments then.
 */
function moments(perDay: Map<string, number>): [n: number, midDay: boolean][] {
  const first = perDay.get("2025-01-01")!;
  const second = perDay.get("2025-01-02")!;
  assert(first >= 2 && second >= 3, `${[...perDay]}`);
  return [
    [1, true],
    [first, false],
    [first + 1, true],
    [first + Math.ceil(second / 2), true],
  ];
}

Deno.test({
  name:
    "kill -9 in the middle of a disk budget's deletion: the next start finishes that day, and every later day reads back whole",
  ignore: skipped("strace", STRACE_SKIP),
}, async (t) => {
  await using model = await tempDir();
  await prime(model.path);
  const perDay = await segmentsPerDay(model.path);
  const { total } = await new DiskUsageReader(model.path).read();
  const maxDisk = Math.floor(total / 2);
  for (const [n, midDay] of moments(perDay)) {
    await t.step(`killed after unlink #${n}`, async () => {
      await using tmp = await tempDir();
      for (const part of ["segments", "wal"]) {
        await Deno.mkdir(`${tmp.path}/${part}`);
        for await (const { name } of Deno.readDir(`${model.path}/${part}`)) {
          const from = `${model.path}/${part}/${name}`;
          await Deno.copyFile(from, `${tmp.path}/${part}/${name}`);
        }
      }
      const { reached } = await runUntilKilled(
        tmp.path,
        "unlink,unlinkat",
        n,
        () => Promise.resolve(0),
        { ...SCRIPT, maxDisk },
      );
      assert(reached, `the start made fewer than ${n} unlinks`);
      const marked = await markedDay(tmp.path);
      assertEquals((await segmentsPerDay(tmp.path)).has(marked), midDay);
      // A start with no budget only finishes what was interrupted.
      let store = await openEngine(tmp.path, OPTIONS);
      let states = days(store);
      await store.close();
      const deleted = states.filter((state) => state === "deleted").length;
      assert(deleted >= 1, states.join(", "));
      assertEquals(states, [
        ...Array(deleted).fill("deleted"),
        ...Array(DAYS - deleted).fill("whole"),
      ]);
      // The marked day and those before it.
      assertEquals(deleted, (Date.parse(marked) / 1000 - START) / DAY + 1);
      // With the budget, the start deletes on until the files fit.
      store = await openEngine(tmp.path, { ...OPTIONS, maxDiskBytes: maxDisk });
      states = days(store);
      await store.close();
      const kept = states.filter((state) => state === "whole").length;
      assert(kept >= 3 && kept < DAYS, states.join(", "));
      assertEquals(states, [
        ...Array(DAYS - kept).fill("deleted"),
        ...Array(kept).fill("whole"),
      ]);
      const { total } = await new DiskUsageReader(tmp.path).read();
      assert(total <= maxDisk, `${total} B, over ${maxDisk}`);
    });
  }
});
