/**
 * kill -9 of a real server process on the storage engine at the moments
 * around a checkpoint, while puts stream in: just after the Nth rename (a
 * segment or checkpoint put in place), the Nth unlink (a covered WAL file
 * deleted) or the Nth fsync of a directory, which strace holds for 200 ms
 * so the kill lands there. The restart must give back every acknowledged
 * put, and no point that was not put.
 */

import { assert, assertEquals } from "@std/assert";
import { tempDir } from "../../../helpers/server.ts";
import { skipped } from "../../../helpers/skip.ts";
import { openEngine } from "./open_engine.ts";
import { runUntilKilled, sendPuts, STRACE_SKIP } from "./kill_under_strace.ts";
import { writeLegacyLog } from "./legacy_log.ts";

const PUTS = 6000;
const WAVE = 400;

/** Put `i`: 30 keys, seconds across a UTC midnight, a value per put. */
function put(i: number): [key: string, timestamp: number, value: number] {
  return [`k${i % 30}`, 1_727_740_000 + Math.floor(i / 30) * 10, i / 4];
}

/** The puts as protocol lines. */
const LINES = Array.from({ length: PUTS }, (_, i) => {
  const [key, timestamp, value] = put(i);
  return `put ${key} ${value} ${timestamp}\n`;
});

const MOMENTS: [syscalls: string, n: number][] = [
  // Segments and checkpoints put in place: after the first segment, after
  // a checkpoint, after several checkpoints.
  ...[1, 2, 3, 4, 6].map((
    n,
  ): [string, number] => ["rename,renameat,renameat2", n]),
  // Covered WAL files and checkpoints being deleted.
  ...[1, 2, 4].map((n): [string, number] => ["unlink,unlinkat", n]),
  // Directory fsyncs (the first is at start-up): after a new WAL file, a
  // rename, or deletions.
  ...[2, 4, 7].map((n): [string, number] => ["fsync", n]),
];

for (const [syscalls, n] of MOMENTS) {
  Deno.test({
    name: `every acknowledged put survives kill -9 after ${
      syscalls.split(",")[0]
    } #${n}`,
    ignore: skipped("strace", STRACE_SKIP),
  }, async () => {
    await using tmp = await tempDir();
    const { acknowledged, reached } = await runUntilKilled(
      tmp.path,
      syscalls,
      n,
      (port, died) => sendPuts(port, died, LINES, WAVE),
    );
    assert(reached, `the server made fewer than ${n} such calls`);
    const store = await openEngine(tmp.path, { headPoints: 8 });
    try {
      const wrong: string[] = [];
      for (let i = 0; i < PUTS; i++) {
        const [key, timestamp, value] = put(i);
        const series = store.getRange(key, timestamp, timestamp);
        const found = series?.timestamps.length ? series.values[0] : undefined;
        if (found === undefined ? i < acknowledged : found !== value) {
          wrong.push(`put ${i} (${key} ${timestamp}): ${found}, not ${value}`);
        }
      }
      assertEquals(wrong.slice(0, 5), []);
      assert(acknowledged > 0, "no put was acknowledged");
      const { points } = store.size();
      assert(points >= acknowledged && points <= PUTS, `${points} points`);
    } finally {
      await store.close();
    }
  });
}

/** A 0.2 data directory holding puts 0 to PUTS - 1, 100 a frame. */
async function legacyDirectory(dir: string): Promise<void> {
  const batches = [];
  for (let i = 0; i < PUTS; i += 100) {
    batches.push(Array.from({ length: 100 }, (_, j) => {
      const [key, timestamp, value] = put(i + j);
      return { key, timestamp, value };
    }));
  }
  await writeLegacyLog(dir, batches);
}

/** The conversion's calls: segments, the checkpoint, the log renamed aside. */
const CONVERSION: [syscalls: string, n: number][] = [
  ...[1, 2, 3, 4].map((
    n,
  ): [string, number] => ["rename,renameat,renameat2", n]),
  ["unlink,unlinkat", 1],
  ...[2, 3, 5].map((n): [string, number] => ["fsync", n]),
];

for (const [syscalls, n] of CONVERSION) {
  Deno.test({
    name: `a conversion of a 0.2 log killed after ${
      syscalls.split(",")[0]
    } #${n} loses no point and completes at the next start`,
    ignore: skipped("strace", STRACE_SKIP),
  }, async () => {
    await using tmp = await tempDir();
    await legacyDirectory(tmp.path);
    const { reached } = await runUntilKilled(
      tmp.path,
      syscalls,
      n,
      () => Promise.resolve(0),
    );
    assert(reached, `the conversion made fewer than ${n} such calls`);
    const store = await openEngine(tmp.path, { headPoints: 8 });
    try {
      const wrong: string[] = [];
      for (let i = 0; i < PUTS; i++) {
        const [key, timestamp, value] = put(i);
        const series = store.getRange(key, timestamp, timestamp);
        const found = series?.timestamps.length ? series.values[0] : undefined;
        if (found !== value) wrong.push(`put ${i}: ${found}, not ${value}`);
      }
      assertEquals(wrong.slice(0, 5), []);
      assertEquals(store.size().points, PUTS);
    } finally {
      await store.close();
    }
    const names: string[] = [];
    for await (const { name } of Deno.readDir(tmp.path)) names.push(name);
    assert(!names.includes("metrics.log"), `${names}`);
    assertEquals(
      names.filter((n) => n.startsWith("metrics.log.v0.2-")).length,
      1,
    );
  });
}
