/**
 * kill -9 of a real server process while it compacts: a directory of four
 * past days, each in several segments, is opened (so every day is due),
 * rewrites of some of its points stream in meanwhile, and strace holds
 * the Nth rename (an output put in place, or a checkpoint's file), unlink
 * (an input deleted) or directory fsync for 200 ms while the process is
 * killed. The next start must give back every point: the rewrite where
 * it was acknowledged, else the first value or the rewrite; and a
 * compaction after it must leave one segment a day with the same points.
 */

import { assert, assertEquals } from "@std/assert";
import type { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { tempDir } from "../../../helpers/server.ts";
import { skipped } from "../../../helpers/skip.ts";
import { namesIn } from "./dir_files.ts";
import { parseSegmentName } from "../../../../src/server/storage/engine/files.ts";
import { decodeSegment } from "../../../../src/server/storage/engine/segment_format.ts";
import { openEngine } from "./open_engine.ts";
import { runUntilKilled, sendPuts, STRACE_SKIP } from "./kill_under_strace.ts";

/** 2024-10-01T00:00:00Z. */
const START = Date.UTC(2024, 9, 1) / 1000;
const KEYS = 20;
/** One point per key every 10 minutes over four days. */
const PUTS = KEYS * 4 * 144;
/** Every third point is rewritten while the server compacts. */
const REWRITES = Array.from({ length: PUTS / 3 }, (_, j) => 3 * j);
const SCRIPT = { checkpointPoints: 500, headPoints: 8 };

function put(i: number, rewritten = false) {
  return {
    key: `k${i % KEYS}`,
    timestamp: START + Math.floor(i / KEYS) * 600,
    value: rewritten ? -i : i / 4,
  };
}

/**
 * Writes the four days with no day over for compaction, reopening the
 * store every 16 hours of points: each close writes a segment a day it
 * touched, so every day has several.
 */
async function prime(dir: string): Promise<void> {
  const step = KEYS * 96;
  for (let i = 0; i < PUTS; i += step) {
    const store = await openEngine(dir, {
      ...SCRIPT,
      compactionClock: () => 0,
    });
    await store.put(Array.from({ length: step }, (_, j) => put(i + j)));
    await store.close();
  }
}

/** What differs from the puts, the first `acknowledged` rewrites applied. */
function wrongPoints(store: EngineStore, acknowledged: number): string[] {
  const rewrittenUpTo = new Map(REWRITES.map((i, j) => [i, j]));
  const wrong: string[] = [];
  for (let i = 0; i < PUTS; i++) {
    const { key, timestamp, value } = put(i);
    const series = store.getRange(key, timestamp, timestamp);
    const found = series?.timestamps.length ? series.values[0] : undefined;
    const j = rewrittenUpTo.get(i);
    const ok = j === undefined
      ? found === value
      : j < acknowledged
      ? found === -i
      : found === value || found === -i;
    if (!ok) wrong.push(`put ${i} (${key} ${timestamp}): ${found}`);
  }
  assertEquals(store.size().points, PUTS);
  return wrong;
}

const LINES = REWRITES.map((i) => {
  const { key, timestamp, value } = put(i, true);
  return `put ${key} ${value} ${timestamp}\n`;
});

const MOMENTS: [syscalls: string, n: number][] = [
  ...[1, 2, 3, 5].map((
    n,
  ): [string, number] => ["rename,renameat,renameat2", n]),
  ...[1, 3, 6].map((n): [string, number] => ["unlink,unlinkat", n]),
  ...[2, 3, 5].map((n): [string, number] => ["fsync", n]),
];

Deno.test({
  name:
    "a compaction killed at any rename, unlink or directory fsync loses no point, and the next start compacts again",
  ignore: skipped("strace", STRACE_SKIP),
}, async (t) => {
  await using model = await tempDir();
  await prime(model.path);
  const before = (await namesIn(`${model.path}/segments`)).length;
  assert(before >= 8, `${before} segments`);
  const seen = new Set<string>();
  for (const [syscalls, n] of MOMENTS) {
    await t.step(`killed after ${syscalls.split(",")[0]} #${n}`, async () => {
      await using tmp = await tempDir();
      for (const part of ["segments", "wal"]) {
        await Deno.mkdir(`${tmp.path}/${part}`);
        for (const name of await namesIn(`${model.path}/${part}`)) {
          const from = `${model.path}/${part}/${name}`;
          await Deno.copyFile(from, `${tmp.path}/${part}/${name}`);
        }
      }
      const { acknowledged, reached } = await runUntilKilled(
        tmp.path,
        syscalls,
        n,
        (port, died) => sendPuts(port, died, LINES, 200),
        SCRIPT,
      );
      assert(reached, `the server made fewer than ${n} such calls`);
      for (const state of await crashState(tmp.path)) seen.add(state);
      const store = await openEngine(tmp.path, { headPoints: 8 });
      try {
        assertEquals(wrongPoints(store, acknowledged).slice(0, 5), []);
        await store.compact();
        assertEquals(store.compactionsDue, 0);
        assertEquals(wrongPoints(store, acknowledged).slice(0, 5), []);
      } finally {
        await store.close();
      }
      const reopened = await openEngine(tmp.path, { headPoints: 8 });
      try {
        assertEquals(wrongPoints(reopened, acknowledged).slice(0, 5), []);
      } finally {
        await reopened.close();
      }
    });
  }
  // A kill came between an output's rename and its inputs' deletion.
  assert(seen.has("an output beside inputs it replaces"), `${[...seen]}`);
});

/**
 * What a kill left of compactions in `dir`: an output in place beside
 * inputs it replaces (a kill after the rename, before the unlinks), or
 * outputs whose inputs are all gone.
 */
async function crashState(dir: string): Promise<string[]> {
  const present = new Set<number>();
  const replaced: number[] = [];
  for (const name of await namesIn(`${dir}/segments`)) {
    const parsed = parseSegmentName(name);
    if (parsed === undefined) continue;
    present.add(parsed.sequence);
    const bytes = await Deno.readFile(`${dir}/segments/${name}`);
    replaced.push(...decodeSegment(bytes).footer?.replaces ?? []);
  }
  if (replaced.some((sequence) => present.has(sequence))) {
    return ["an output beside inputs it replaces"];
  }
  return replaced.length > 0 ? ["outputs, their inputs deleted"] : [];
}
