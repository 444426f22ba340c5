/**
 * Retention on a fake clock: puts older than the retention are refused,
 * no answer ever holds an expired point, deletions remove exactly the
 * expired points, and every unexpired acknowledged point reads back —
 * checked against a plain reference under long random operation
 * sequences, across restarts of the log.
 */

import { assert, assertEquals } from "@std/assert";
import {
  RetentionStorage,
  TOO_OLD,
} from "../../../src/server/storage/retention.ts";
import { MemoryStore } from "../../../src/server/storage/memory.ts";
import { openEngine } from "./engine/open_engine.ts";
import { DiskUsageReader } from "../../../src/server/storage/engine/disk_budget.ts";
import { ChunkStore } from "../../../src/server/storage/engine/store.ts";
import type {
  Series,
  Storage,
  StoredPoint,
} from "../../../src/server/storage/storage.ts";
import { tempDir } from "../../helpers/server.ts";
import { Rng } from "../../reliability/rng.ts";

/** A clock the test moves by hand, in ms. */
class FakeClock {
  ms = Date.UTC(2026, 0, 1);
  readonly now = (): number => this.ms;
  /** Unix seconds now. */
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
}

/** The reference: key → timestamp → value, and the deletions it expects. */
class Reference {
  readonly keys = new Map<string, Map<number, number>>();

  put(points: readonly StoredPoint[]): void {
    for (const { key, timestamp, value } of points) {
      let series = this.keys.get(key);
      if (series === undefined) this.keys.set(key, series = new Map());
      series.set(timestamp, value);
    }
  }

  /** Deletes the points before `before`; returns how many went. */
  expire(before: number): number {
    let gone = 0;
    for (const [key, series] of this.keys) {
      for (const timestamp of series.keys()) {
        if (timestamp < before) {
          series.delete(timestamp);
          gone++;
        }
      }
      if (series.size === 0) this.keys.delete(key);
    }
    return gone;
  }

  /** `key`'s points from `from` to `to` as `timestamp=value` lines. */
  lines(key: string, from: number, to: number): string[] {
    const series = this.keys.get(key) ?? new Map<number, number>();
    return [...series].filter(([t]) => from <= t && t <= to)
      .sort(([a], [b]) => a - b).map(([t, v]) => `${t}=${v}`);
  }

  points(): number {
    let count = 0;
    for (const series of this.keys.values()) count += series.size;
    return count;
  }
}

function lines(series: Series | undefined): string[] {
  if (series === undefined) return [];
  return Array.from(
    series.timestamps,
    (t, i) => `${t}=${series.values[i]}`,
  );
}

/** A retention of `seconds` on `store`, on `clock`. */
function retained(
  store: Storage,
  clock: FakeClock,
  seconds: number,
): RetentionStorage {
  return new RetentionStorage(store, { seconds, now: clock.now });
}

Deno.test("a put older than the retention is refused as older than retention; one at the cut-off is taken", async () => {
  const clock = new FakeClock();
  await using storage = asyncDisposable(
    retained(new MemoryStore(), clock, 3600),
  );
  const cutoff = clock.seconds - 3600;
  const point = (timestamp: number): StoredPoint => ({
    key: "k",
    timestamp,
    value: 1,
  });
  assertEquals(storage.inner.refusal(point(cutoff - 1)), TOO_OLD);
  assertEquals(storage.inner.refusal(point(cutoff)), undefined);
  assertEquals(storage.inner.refusal(point(clock.seconds + 86_400)), undefined);
});

Deno.test("the store's own refusal still applies to a point within the retention", async () => {
  const clock = new FakeClock();
  await using storage = asyncDisposable(
    retained(new MemoryStore({ maxKeys: 1 }), clock, 3600),
  );
  const now = clock.seconds;
  await storage.inner.put([{ key: "a", timestamp: now, value: 1 }]);
  assertEquals(
    storage.inner.refusal({ key: "b", timestamp: now, value: 1 }),
    "too many keys",
  );
});

Deno.test("an expired point is never answered, even before the deletion runs", async () => {
  const clock = new FakeClock();
  const memory = new MemoryStore();
  await using storage = asyncDisposable(retained(memory, clock, 100));
  const now = clock.seconds;
  const put: StoredPoint[] = [];
  for (let t = now - 50; t <= now; t += 10) {
    put.push({ key: "walk", timestamp: t, value: t % 7 });
  }
  put.push({ key: "once", timestamp: now - 50, value: 5 });
  await storage.inner.put(put);
  clock.ms += 75_000; // the cut-off moves 75 s: now - 25
  const cutoff = clock.seconds - 100;
  const walk = await storage.inner.get("walk");
  assertEquals(Array.from(walk!.timestamps), [now - 20, now - 10, now]);
  assertEquals(await storage.inner.get("once"), undefined);
  assertEquals(
    lines(await storage.inner.getRange("walk", 0, now - 10)),
    [`${now - 20}=${(now - 20) % 7}`, `${now - 10}=${(now - 10) % 7}`],
  );
  const all = [...await storage.inner.getAll()];
  assertEquals(all.map((series) => series.key), ["walk"]);
  assert(Array.from(all[0].timestamps).every((t) => t >= cutoff));
  // Nothing was deleted yet: the store behind still holds every point.
  assertEquals(memory.pointCount, put.length);
});

/** A memory store that also streams `get *`, as a remote backend would. */
class StreamingStore extends MemoryStore {
  async *streamAll(): AsyncGenerator<Series, void, undefined> {
    for (const series of this.getAll()) {
      await Promise.resolve();
      yield series;
    }
  }
}

Deno.test("a streamed get * is forwarded with its expired points cut and keys left with none dropped; a store that does not stream gets none", async () => {
  const clock = new FakeClock();
  await using storage = asyncDisposable(
    retained(new StreamingStore(), clock, 100),
  );
  const now = clock.seconds;
  await storage.inner.put([
    { key: "walk", timestamp: now - 150, value: 1 },
    { key: "walk", timestamp: now - 50, value: 2 },
    { key: "gone", timestamp: now - 150, value: 3 },
    { key: "kept", timestamp: now, value: 4 },
  ]);
  const streamed: string[] = [];
  for await (const series of storage.inner.streamAll!()) {
    streamed.push(`${series.key} ${lines(series).join(" ")}`);
  }
  assertEquals(streamed, [`walk ${now - 50}=2`, `kept ${now}=4`]);
  await using plain = asyncDisposable(retained(new MemoryStore(), clock, 100));
  assertEquals(plain.inner.streamAll, undefined);
});

/** A 100 s retention on a memory store, on a fake clock, its deletions heard. */
function heardRetention(expireEveryMs?: number): {
  clock: FakeClock;
  memory: MemoryStore;
  heard: number[];
  storage: RetentionStorage;
} {
  const clock = new FakeClock();
  const memory = new MemoryStore();
  const heard: number[] = [];
  const storage = new RetentionStorage(memory, {
    seconds: 100,
    now: clock.now,
    expireEveryMs,
    onExpired: (points) => heard.push(points),
  });
  return { clock, memory, heard, storage };
}

Deno.test("a deletion removes exactly the expired points and says how many", async () => {
  const { clock, memory, heard, storage } = heardRetention();
  try {
    const now = clock.seconds;
    await storage.put([
      { key: "a", timestamp: now - 90, value: 1 },
      { key: "a", timestamp: now - 10, value: 2 },
      { key: "b", timestamp: now - 95, value: 3 },
      { key: "c", timestamp: now, value: 4 },
    ]);
    clock.ms += 50_000;
    assertEquals(await storage.expire(), 2);
    assertEquals(heard, [2]);
    assertEquals(memory.size(), { keys: 2, points: 2 });
    assertEquals(lines(memory.get("a")), [`${now - 10}=2`]);
    assertEquals(memory.get("b"), undefined);
  } finally {
    await storage.close();
  }
});

Deno.test("deletions run on their own, every expireEveryMs", async () => {
  const { clock, memory, heard, storage } = heardRetention(20);
  try {
    await storage.put([{ key: "a", timestamp: clock.seconds, value: 1 }]);
    clock.ms += 101_000;
    for (let i = 0; i < 500 && memory.pointCount > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assertEquals(memory.pointCount, 0);
    assert(heard.includes(1), `heard ${heard}`);
  } finally {
    await storage.close();
  }
});

Deno.test("a series read before a put into its middle and a deletion reads their result, in order", async () => {
  const clock = new FakeClock();
  await using storage = asyncDisposable(
    retained(new MemoryStore(), clock, 100),
  );
  const now = clock.seconds;
  await storage.inner.put(
    [0, 20, 40, 60, 80].map((age) => ({
      key: "k",
      timestamp: now - age,
      value: age,
    })),
  );
  clock.ms += 30_000; // cut-off: now - 70
  const series = await storage.inner.get("k");
  assertEquals(lines(series), [
    `${now - 60}=60`,
    `${now - 40}=40`,
    `${now - 20}=20`,
    `${now}=0`,
  ]);
  // A get writes a long series in pieces: these land between two of them.
  await storage.inner.put([{ key: "k", timestamp: now - 30, value: 30 }]);
  clock.ms += 15_000; // cut-off: now - 55
  await storage.inner.expire();
  assertEquals(lines(series), [
    `${now - 40}=40`,
    `${now - 30}=30`,
    `${now - 20}=20`,
    `${now}=0`,
  ]);
});

/** A storage the test can `await using`, closed at the end. */
function asyncDisposable(
  inner: RetentionStorage,
): { inner: RetentionStorage } & AsyncDisposable {
  return { inner, [Symbol.asyncDispose]: () => inner.close() };
}

/**
 * Random puts around the moving cut-off, gets, range reads, `get *`,
 * deletions and (for the log) restarts, each answer compared with the
 * reference cut at the cut-off of the moment.
 */
async function runRetentionModel(
  open: () => Promise<Storage>,
  {
    restarts,
    wholeChunk,
    seed,
    ops,
    retention = 600,
    maxStepMs = 4000,
    sizeDeletions = [],
  }: {
    restarts: boolean;
    /** Most expired points a key may keep: its chunks go whole (0: none). */
    wholeChunk: number;
    seed: number;
    ops: number;
    /** Seconds kept. */
    retention?: number;
    /** Most the clock moves between two operations. */
    maxStepMs?: number;
    /**
     * Each time a disk budget deleted every point before some time, that
     * time, as the store drops the points: the reference drops them too
     * before the next operation.
     */
    sizeDeletions?: number[];
  },
): Promise<{ expired: number; checked: number; sizeDeleted: number }> {
  const rng = new Rng(seed);
  const clock = new FakeClock();
  const reference = new Reference();
  const RETENTION = retention;
  const KEYS = 40;
  let inner = await open();
  let storage = retained(inner, clock, RETENTION);
  let expired = 0;
  let checked = 0;
  let sizeDeleted = 0;
  try {
    for (let op = 0; op < ops; op++) {
      for (const before of sizeDeletions.splice(0)) {
        sizeDeleted += reference.expire(before);
      }
      clock.ms += rng.int(0, maxStepMs);
      const cutoff = storage.cutoff();
      const roll = rng.int(0, 99);
      if (roll < 55) {
        const batch: StoredPoint[] = [];
        for (let i = rng.int(1, 20); i > 0; i--) {
          batch.push({
            key: `k${rng.int(0, KEYS - 1)}`,
            // Around the cut-off as often as in the middle of the window.
            timestamp: rng.chance(0.3)
              ? cutoff + rng.int(-5, 5)
              : clock.seconds - rng.int(-10, RETENTION + 30),
            value: rng.int(-1000, 1000) / 4,
          });
        }
        const taken = batch.filter((point) => {
          const reason = storage.refusal(point);
          assertEquals(
            reason,
            point.timestamp < cutoff ? TOO_OLD : undefined,
            `refusal of ${point.key}@${point.timestamp}, cut-off ${cutoff}`,
          );
          return reason === undefined;
        });
        if (taken.length > 0) await storage.put(taken);
        reference.put(taken);
      } else if (roll < 75) {
        const key = `k${rng.int(0, KEYS - 1)}`;
        assertEquals(
          lines(await storage.get(key)),
          reference.lines(key, cutoff, Infinity),
          `get ${key} at op ${op}`,
        );
        checked++;
      } else if (roll < 85) {
        const key = `k${rng.int(0, KEYS - 1)}`;
        const from = cutoff + rng.int(-100, RETENTION);
        const to = from + rng.int(0, 300);
        assertEquals(
          lines(await storage.getRange!(key, from, to)),
          reference.lines(key, Math.max(from, cutoff), to),
          `getRange ${key} ${from} ${to} at op ${op}`,
        );
        checked++;
      } else if (roll < 90) {
        const expected = [...reference.keys.keys()].filter((key) =>
          reference.lines(key, cutoff, Infinity).length > 0
        ).sort();
        const all = [...await storage.getAll()];
        assertEquals(all.map((series) => series.key).sort(), expected);
        for (const series of all) {
          assertEquals(
            lines(series),
            reference.lines(series.key, cutoff, Infinity),
          );
        }
        checked++;
      } else if (roll < 97 || !restarts) {
        const gone = await storage.expire();
        const now = storage.cutoff();
        const want = reference.expire(now);
        // A chunk goes whole, and a restart may keep fewer expired points
        // than were kept before it: count exactly only without either.
        if (!restarts && wholeChunk === 0) {
          assertEquals(gone, want, `deleted at op ${op}`);
          assertEquals(storage.size!().points, reference.points());
        } else {
          for (const series of await inner.getAll()) {
            const stale = Array.from(series.timestamps).filter((t) => t < now);
            assert(
              stale.length <= wholeChunk,
              `${series.key} kept ${stale.length} expired points at op ${op}`,
            );
          }
        }
        expired += gone;
      } else {
        await storage.close();
        inner = await open();
        storage = retained(inner, clock, RETENTION);
      }
    }
  } finally {
    await storage.close();
  }
  return { expired, checked, sizeDeleted };
}

Deno.test("retention model: a memory store over 20,000 random operations as the cut-off moves", async () => {
  const { expired, checked } = await runRetentionModel(
    () => Promise.resolve(new MemoryStore()),
    { restarts: false, wholeChunk: 0, seed: 22, ops: 20_000 },
  );
  assert(expired > 10_000, `only ${expired} points expired`);
  assert(checked > 5_000);
});

Deno.test("retention model: a chunk store with 8-point heads deletes whole chunks, over 20,000 random operations", async () => {
  const { expired, checked } = await runRetentionModel(
    () => Promise.resolve(new ChunkStore({ headPoints: 8, keepSealed: false })),
    { restarts: false, wholeChunk: 16, seed: 24, ops: 20_000 },
  );
  assert(expired > 10_000, `only ${expired} points expired`);
  assert(checked > 5_000);
});

Deno.test("retention model: the storage engine over 6,000 random operations with restarts", async () => {
  await using dir = await tempDir();
  const { expired, checked } = await runRetentionModel(
    // No day is over for compaction: a compacted day's chunks hold up to
    // 8,640 points, which this bound would have to allow, and a compaction
    // at each of its many restarts triples its time (compaction_test.ts
    // and the engine's model test cover it).
    () =>
      openEngine(dir.path, {
        checkpointPoints: 2000,
        compactionClock: () => 0,
      }),
    // Its memory is a ChunkStore: chunks of up to 2 × 120 points.
    { restarts: true, wholeChunk: 240, seed: 23, ops: 6_000 },
  );
  assert(expired > 1_000, `only ${expired} points expired`);
  assert(checked > 1_000);
});

Deno.test("retention model: the storage engine under a disk budget, over 1,200 random operations with restarts across two weeks; the budget's and the retention's deletions interleave", async () => {
  await using dir = await tempDir();
  const sizeDeletions: number[] = [];
  const messages: string[] = [];
  const { expired, checked, sizeDeleted } = await runRetentionModel(
    () =>
      openEngine(dir.path, {
        headPoints: 8,
        checkpointPoints: 300,
        fsync: "interval", // restarts are clean: close forces the WAL
        maxDiskBytes: 48 * 1024,
        onSizeDeleted: (_points, before) => sizeDeletions.push(before),
        log: (message) => messages.push(message),
      }),
    // A 5-day retention and up to 35 minutes between operations: about
    // 14 days pass, and puts land anywhere in the last 5 days.
    {
      restarts: true,
      wholeChunk: 16,
      seed: 26,
      ops: 1_200,
      retention: 5 * 86_400,
      maxStepMs: 35 * 60_000,
      sizeDeletions,
    },
  );
  assert(expired > 500, `only ${expired} points expired`);
  assert(sizeDeleted > 500, `only ${sizeDeleted} points deleted for size`);
  assert(checked > 200);
  // Each step deleted its day from disk too, and never ran out of room.
  assertEquals(messages.filter((m) => /warning/.test(m)), []);
  const { total } = await new DiskUsageReader(dir.path).read();
  assert(total <= 48 * 1024 + 16 * 4096, `${total} B on disk`);
  console.log(
    `${expired} points deleted by age, ${sizeDeleted} by size, ${checked} answers checked`,
  );
});
