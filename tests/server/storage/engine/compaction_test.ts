/**
 * Compaction of the storage engine's segments: which days are due, what
 * a day's merged segment holds (every point of the day as last written,
 * across rewrites and out-of-order points in several segments), and a
 * store that compacts: one segment a day, every acknowledged point read
 * back after a restart, the output written while puts go on.
 */

import { assert, assertEquals } from "@std/assert";
import {
  decodeChunk,
  encodeChunk,
} from "../../../../src/server/storage/chunk/chunk.ts";
import type { SegmentOnDisk } from "../../../../src/server/storage/engine/checkpoint.ts";
import {
  compactDay,
  COMPACTED_CHUNK_POINTS,
  type DayInput,
} from "../../../../src/server/storage/engine/compaction/merge_day.ts";
import {
  dueDays,
  LARGE_SEGMENT_BYTES,
  MOST_OPEN_SEGMENTS,
  newestWritten,
} from "../../../../src/server/storage/engine/compaction/plan.ts";
import type {
  EngineStore,
  EngineStoreOptions,
} from "../../../../src/server/storage/engine/durable.ts";
import { NO_EXPIRY } from "../../../../src/server/storage/engine/expiry.ts";
import {
  parseSegmentName,
  segmentPath,
  segmentsDir,
} from "../../../../src/server/storage/engine/files.ts";
import { DAY_SECONDS } from "../../../../src/server/storage/engine/sealed.ts";
import { decodeSegment } from "../../../../src/server/storage/engine/segment_format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { Rng } from "../../../reliability/rng.ts";
import { namesIn } from "./dir_files.ts";
import { openEngine } from "./open_engine.ts";

const DAY = 19_675; // 2023-11-14
const NOW = (DAY + 10) * DAY_SECONDS;

function segment(
  day: number,
  sequence: number,
  compacted = false,
): SegmentOnDisk {
  return {
    path: segmentPath("/data", day, sequence),
    sequence,
    last: day * DAY_SECONDS,
    compacted,
  };
}

Deno.test(`a day that is over is due once it has two segments, or one of ${LARGE_SEGMENT_BYTES} B or more that a compaction did not write`, () => {
  const sizes = new Map([[3, LARGE_SEGMENT_BYTES], [
    7,
    LARGE_SEGMENT_BYTES - 1,
  ]]);
  const due = dueDays(
    [
      segment(DAY, 1),
      segment(DAY + 1, 2, true),
      segment(DAY + 2, 3),
      segment(DAY, 4),
      segment(DAY + 3, 5, true),
      segment(DAY + 3, 6),
      segment(DAY + 4, 7),
    ],
    NOW,
    (s) => sizes.get(s.sequence),
  );
  assertEquals(
    due.map(({ day, segments }) => [day, segments.map((s) => s.sequence)]),
    [[DAY, [1, 4]], [DAY + 2, [3]], [DAY + 3, [5, 6]]],
  );
});

Deno.test(`a day not over is due only past ${MOST_OPEN_SEGMENTS} segments`, () => {
  const today = Math.floor(NOW / DAY_SECONDS);
  const segments = Array.from(
    { length: MOST_OPEN_SEGMENTS },
    (_, i) => segment(today, i + 1),
  );
  assertEquals(dueDays(segments, NOW, () => 1e9), []);
  segments.push(segment(today, 99));
  assertEquals(dueDays(segments, NOW, () => 0).map(({ day }) => day), [
    today,
  ]);
});

Deno.test(`a day still written merges only its newest checkpoints' segments once they are more than ${MOST_OPEN_SEGMENTS}`, () => {
  const today = Math.floor(NOW / DAY_SECONDS);
  const merged = [segment(today, 1, true), segment(today, 11, true)];
  const newest = Array.from(
    { length: MOST_OPEN_SEGMENTS },
    (_, i) => segment(today, 20 + i),
  );
  assertEquals(dueDays([...merged, ...newest], NOW, () => 0), []);
  const more = [...merged, ...newest, segment(today, 30)];
  assertEquals(
    dueDays(more, NOW, () => 0).map(({ day, whole, segments }) => [
      day,
      whole,
      segments.map((s) => s.sequence),
    ]),
    [[today, false, [...newest, segment(today, 30)].map((s) => s.sequence)]],
  );
});

Deno.test(`a day still written is merged whole once more than ${MOST_OPEN_SEGMENTS} of its segments are compactions'`, () => {
  const today = Math.floor(NOW / DAY_SECONDS);
  const merged = Array.from(
    { length: MOST_OPEN_SEGMENTS },
    (_, i) => segment(today, i + 1, true),
  );
  const list = [...merged, segment(today, 40)];
  assertEquals(dueDays(list, NOW, () => 0), []);
  list.push(segment(today, 9, true));
  const [plan] = dueDays(list, NOW, () => 0);
  assertEquals(plan.whole, true);
  assertEquals(
    plan.segments.map((s) => s.sequence),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 40],
  );
});

Deno.test("the newest segments a compaction did not write follow its newest output, never one before it", () => {
  const day = DAY;
  assertEquals(
    newestWritten([
      segment(day, 1),
      segment(day, 2, true),
      segment(day, 3),
      segment(day, 4),
    ]).map((s) => s.sequence),
    [3, 4],
  );
  assertEquals(newestWritten([segment(day, 1, true)]), []);
  assertEquals(
    newestWritten([segment(day, 5), segment(day, 6)]).map((s) => s.sequence),
    [5, 6],
  );
});

Deno.test(`a day that is over waits while a segment of it is recent, unless it has more than ${MOST_OPEN_SEGMENTS}`, () => {
  const recentOnes = new Set([2, 12]);
  const recent = (s: { sequence: number }) => recentOnes.has(s.sequence);
  const busy = Array.from(
    { length: MOST_OPEN_SEGMENTS + 1 },
    (_, i) => segment(DAY + 1, 10 + i),
  );
  const due = dueDays(
    [
      segment(DAY, 1),
      segment(DAY, 2),
      segment(DAY + 2, 3),
      segment(DAY + 2, 4),
    ],
    NOW,
    () => 0,
    recent,
  );
  assertEquals(due.map(({ day }) => day), [DAY + 2]);
  assertEquals(
    dueDays(busy, NOW, () => 0, recent).map(({ day }) => day),
    [DAY + 1],
  );
  assertEquals(dueDays(busy.slice(1), NOW, () => 0, recent), []);
});

/** A chunk of `points` ([second offset in DAY, value]) for a record. */
function record(key: string, points: [number, number][]) {
  const timestamps = points.map(([t]) => DAY * DAY_SECONDS + t);
  return {
    key,
    first: timestamps[0],
    last: timestamps[timestamps.length - 1],
    bytes: encodeChunk(timestamps, points.map(([, v]) => v)),
  };
}

/** Every point of `chunks` as `key offset value`, in order. */
function pointsOf(chunks: readonly { key: string; bytes: Uint8Array }[]) {
  return chunks.flatMap(({ key, bytes }) => {
    const { timestamps, values } = decodeChunk(bytes);
    return Array.from(
      timestamps,
      (t, i) => `${key} ${t - DAY * DAY_SECONDS} ${values[i]}`,
    );
  });
}

Deno.test("the newer segment's point wins on a second two segments hold, and within a segment the later record's", () => {
  const inputs: DayInput[] = [
    {
      sequence: 7, // given first, but newer
      records: [record("a", [[20, 70], [30, 71]])],
    },
    {
      sequence: 3,
      records: [
        record("a", [[10, 1], [20, 2], [30, 3], [40, 4]]),
        record("b", [[5, 5]]),
        // A rewritten chunk after the chunk it rewrites.
        record("a", [[40, 44], [50, 45]]),
      ],
    },
  ];
  const { chunks, points, last } = compactDay(inputs, NO_EXPIRY);
  assertEquals(pointsOf(chunks), [
    "a 10 1",
    "a 20 70",
    "a 30 71",
    "a 40 44",
    "a 50 45",
    "b 5 5",
  ]);
  assertEquals(points, 6);
  assertEquals(last, DAY * DAY_SECONDS + 50);
});

Deno.test("out-of-order points of several segments come back in time order", () => {
  const inputs: DayInput[] = [
    { sequence: 1, records: [record("k", [[100, 1], [200, 2]])] },
    { sequence: 2, records: [record("k", [[50, 3], [150, 4], [250, 5]])] },
    { sequence: 3, records: [record("k", [[0, 6]])] },
  ];
  assertEquals(pointsOf(compactDay(inputs, NO_EXPIRY).chunks), [
    "k 0 6",
    "k 50 3",
    "k 100 1",
    "k 150 4",
    "k 200 2",
    "k 250 5",
  ]);
});

Deno.test(`a key's day is re-chunked into even chunks of at most ${COMPACTED_CHUNK_POINTS} points`, () => {
  // Two full chunks and 100 points more, a second apart: one UTC day.
  const total = 2 * COMPACTED_CHUNK_POINTS + 100;
  const records = [];
  for (let start = 0; start < total; start += 120) {
    const run: [number, number][] = [];
    for (let i = start; i < Math.min(start + 120, total); i++) {
      run.push([i, i / 4]);
    }
    records.push(record("k", run));
  }
  const { chunks, points } = compactDay(
    [{ sequence: 1, records }],
    NO_EXPIRY,
  );
  assertEquals(points, total);
  // Three even pieces, not two full ones and 100 points.
  const third = Math.floor(total / 3);
  assertEquals(
    chunks.map(({ bytes }) => decodeChunk(bytes).timestamps.length),
    [
      third,
      Math.floor(2 * total / 3) - third,
      total - Math.floor(2 * total / 3),
    ],
  );
  assertEquals(
    pointsOf(chunks),
    Array.from({ length: total }, (_, i) => `k ${i} ${i / 4}`),
  );
});

Deno.test("chunks the expiry mark deletes are left out, and so are records that name a key only", () => {
  const mark = { before: DAY * DAY_SECONDS + 100, sequence: 5, wal: 0 };
  const inputs: DayInput[] = [
    {
      sequence: 4,
      records: [
        record("old", [[10, 1], [20, 2]]),
        record("kept", [[90, 3], [110, 4]]),
        { key: "named", first: 0, last: 0, bytes: new Uint8Array() },
      ],
    },
    // Written after the mark: kept, whatever its timestamps.
    { sequence: 6, records: [record("late", [[10, 5]])] },
  ];
  assertEquals(pointsOf(compactDay(inputs, mark).chunks), [
    "kept 90 3",
    "kept 110 4",
    "late 10 5",
  ]);
});

/** What was acknowledged: `key timestamp` → value. */
type Oracle = Map<string, number>;

function storeLines(store: EngineStore): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
  ).sort();
}

function oracleLines(oracle: Oracle): string[] {
  return [...oracle].map(([point, value]) => `${point} ${value}`).sort();
}

/** Opens the store in `dir` again and checks it reads back `oracle`. */
async function readsBackAfterRestart(
  dir: string,
  options: Parameters<typeof openEngine>[1],
  oracle: Oracle,
): Promise<void> {
  const reopened = await openEngine(dir, options);
  try {
    assertEquals(storeLines(reopened), oracleLines(oracle));
  } finally {
    await reopened.close();
  }
}

/** Segment names by day. */
async function segmentsByDay(dir: string): Promise<Map<number, number[]>> {
  const byDay = new Map<number, number[]>();
  for (const name of await namesIn(segmentsDir(dir))) {
    const parsed = parseSegmentName(name);
    if (parsed === undefined) continue;
    byDay.set(parsed.day, [...byDay.get(parsed.day) ?? [], parsed.sequence]);
  }
  return byDay;
}

/**
 * Puts `count` random points over three days: keys of a few hundred
 * points, a share of them rewrites of seconds already put and points
 * older than the key's newest.
 */
async function putRandom(
  store: EngineStore,
  oracle: Oracle,
  rng: Rng,
  count: number,
): Promise<void> {
  for (let done = 0; done < count; done += 50) {
    const batch: StoredPoint[] = [];
    for (let i = 0; i < 50; i++) {
      const key = `k${rng.int(0, 9)}`;
      const timestamp = DAY * DAY_SECONDS + 60 * rng.int(0, 3 * 1440 - 1);
      const value = rng.int(0, 10_000) / 100;
      batch.push({ key, timestamp, value });
      oracle.set(`${key} ${timestamp}`, value);
    }
    await store.put(batch);
  }
}

const STORE: EngineStoreOptions & { headPoints: number } = {
  headPoints: 16,
  checkpointPoints: 400,
  compactionClock: () => NOW,
};

Deno.test("a store merges each day's segments into one, and every point reads back after a restart", async () => {
  await using tmp = await tempDir();
  const oracle: Oracle = new Map();
  const rng = new Rng(21);
  const messages: string[] = [];
  const options = { ...STORE, log: (m: string) => messages.push(m) };
  // Several stores one after another, so each day gets several segments.
  for (let round = 0; round < 3; round++) {
    const store = await openEngine(tmp.path, {
      ...options,
      checkpointPoints: 100_000, // one segment a day at close
      compactionClock: () => 0, // nothing is over yet
    });
    await putRandom(store, oracle, rng, 1500);
    await store.close();
  }
  const before = await segmentsByDay(tmp.path);
  assertEquals(before.size, 3);
  assert([...before.values()].every((s) => s.length >= 2), `${[...before]}`);
  const store = await openEngine(tmp.path, options);
  await store.compact();
  assertEquals(store.compactions, 3);
  assertEquals(store.compactionsDue, 0);
  assertEquals(storeLines(store), oracleLines(oracle));
  const after = await segmentsByDay(tmp.path);
  assertEquals([...after.keys()], [...before.keys()]);
  assert([...after.values()].every((s) => s.length === 1), `${[...after]}`);
  for (const [day, [sequence]] of after) {
    const { footer } = decodeSegment(
      await Deno.readFile(segmentPath(tmp.path, day, sequence)),
    );
    assertEquals(footer?.replaces, before.get(day));
  }
  await store.close();
  assertEquals(messages.filter((m) => m.startsWith("compacted ")).length, 3);
  const reopened = await openEngine(tmp.path, options);
  try {
    assertEquals(storeLines(reopened), oracleLines(oracle));
    await reopened.compact();
    assertEquals(reopened.compactionsDue, 0);
  } finally {
    await reopened.close();
  }
  assertEquals(messages.filter((m) => m.startsWith("warning")), []);
});

Deno.test(
  `a day still being written is merged in steps, never holding more than about ${
    2 * MOST_OPEN_SEGMENTS
  } segments, and every point and rewrite reads back`,
  async () => {
    await using tmp = await tempDir();
    const oracle: Oracle = new Map();
    const rng = new Rng(11);
    const messages: string[] = [];
    const options = {
      ...STORE,
      checkpointPoints: 50,
      // The middle of DAY: it is not over, so it is merged in steps.
      compactionClock: () => DAY * DAY_SECONDS + DAY_SECONDS / 2,
      log: (m: string) => messages.push(m),
    };
    const store = await openEngine(tmp.path, options);
    let most = 0;
    try {
      for (let round = 0; round < 200; round++) {
        const batch: StoredPoint[] = [];
        for (let i = 0; i < 50; i++) {
          const key = `k${rng.int(0, 9)}`;
          // Minutes ascending round by round, and a few rewrites of any
          // earlier minute (in whichever segment holds it).
          const minute = rng.int(0, 49) === 0
            ? rng.int(0, 20 * round + 19)
            : 20 * round + rng.int(0, 19);
          const timestamp = DAY * DAY_SECONDS + 60 * minute;
          const value = rng.int(0, 10_000) / 100;
          batch.push({ key, timestamp, value });
          oracle.set(`${key} ${timestamp}`, value);
        }
        await store.put(batch);
        await store.compact();
        const held = (await segmentsByDay(tmp.path)).get(DAY)?.length ?? 0;
        most = Math.max(most, held);
      }
      assertEquals(storeLines(store), oracleLines(oracle));
    } finally {
      await store.close();
    }
    const steps = messages.filter((m) => m.startsWith("compacted the newest"));
    assert(steps.length >= 2, `merged in steps: ${steps.length}`);
    assert(most <= 2 * MOST_OPEN_SEGMENTS + 2, `${most} segments`);
    await readsBackAfterRestart(tmp.path, options, oracle);
    assertEquals(messages.filter((m) => m.startsWith("warning")), []);
  },
);

Deno.test("puts and checkpoints that go on while days are compacted win over the compaction's output", async () => {
  await using tmp = await tempDir();
  const oracle: Oracle = new Map();
  const rng = new Rng(7);
  const messages: string[] = [];
  const store = await openEngine(tmp.path, {
    ...STORE,
    log: (m) => messages.push(m),
  });
  try {
    // Each checkpoint starts a compaction; the puts go on meanwhile.
    for (let i = 0; i < 12; i++) {
      await putRandom(store, oracle, rng, 600);
      assertEquals(storeLines(store), oracleLines(oracle));
    }
    await store.compact();
    assert(store.compactions > 0, messages.join("\n"));
  } finally {
    await store.close();
  }
  await readsBackAfterRestart(tmp.path, STORE, oracle);
  assertEquals(messages.filter((m) => m.startsWith("warning")), []);
});

Deno.test("a backfill over many days, each written by several checkpoints, is merged into one segment a day", async () => {
  await using tmp = await tempDir();
  const DAYS = 100;
  const oracle: Oracle = new Map();
  // Two passes over the days (every other hour, then the hours between),
  // each by a store whose close writes a segment for every day.
  for (let pass = 0; pass < 2; pass++) {
    const store = await openEngine(tmp.path, {
      headPoints: 16,
      checkpointPoints: 100_000,
      compactionClock: () => 0,
    });
    const batch: StoredPoint[] = [];
    for (let day = 0; day < DAYS; day++) {
      for (let hour = pass; hour < 24; hour += 2) {
        const timestamp = (DAY + day) * DAY_SECONDS + hour * 3600;
        batch.push({ key: "backfill", timestamp, value: day + hour / 100 });
        oracle.set(`backfill ${timestamp}`, day + hour / 100);
      }
    }
    await store.put(batch);
    await store.close();
  }
  const before = await segmentsByDay(tmp.path);
  // Each day's points of a pass are sealed when the next day's come; the
  // last day's stay in the head, in the checkpoint.
  const merged = [...before.values()].filter((s) => s.length >= 2).length;
  assert(merged >= DAYS - 1, `${merged} days of two segments or more`);
  const messages: string[] = [];
  const reopened = await openEngine(tmp.path, {
    ...STORE,
    compactionClock: () => (DAY + DAYS) * DAY_SECONDS,
    log: (m) => messages.push(m),
  });
  try {
    await reopened.compact();
    assertEquals(reopened.compactions, merged);
    const after = await segmentsByDay(tmp.path);
    assertEquals([...after.keys()], [...before.keys()]);
    assert([...after.values()].every((s) => s.length === 1));
    assertEquals(storeLines(reopened), oracleLines(oracle));
  } finally {
    await reopened.close();
  }
  assertEquals(messages.filter((m) => m.startsWith("warning")), []);
});

Deno.test("a day written into lately is compacted once it has been still for compactionQuietMs", async () => {
  await using tmp = await tempDir();
  const oracle: Oracle = new Map();
  const store = await openEngine(tmp.path, {
    ...STORE,
    compactionQuietMs: 3000,
  });
  await putRandom(store, oracle, new Rng(5), 1200);
  await store.compact();
  // Every day was written into by the last checkpoints: they wait. The
  // last checkpoint may still be writing its segments (bounded: 2 s).
  for (let i = 0; i < 20 && store.compactionsDue === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assertEquals(store.compactions, 0);
  assert(store.compactionsDue > 0, "no day waits");
  // Bounded: 20 s.
  for (let i = 0; i < 200 && store.compactionsDue > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await store.compact();
  assertEquals(store.compactionsDue, 0);
  assert(store.compactions > 0, "nothing was compacted");
  assertEquals(storeLines(store), oracleLines(oracle));
  await store.close();
  await readsBackAfterRestart(tmp.path, STORE, oracle);
});

Deno.test("a compacted day's chunks take the place of memory's when memory holds nothing of the day that the inputs lack, and every point reads back", async () => {
  await using tmp = await tempDir();
  const oracle: Oracle = new Map();
  const rng = new Rng(33);
  for (let round = 0; round < 2; round++) {
    const store = await openEngine(tmp.path, {
      ...STORE,
      checkpointPoints: 100_000, // one segment a day at close
      compactionClock: () => 0, // nothing is over yet
    });
    await putRandom(store, oracle, rng, 1500);
    // A later day's point seals each key's head, so the next start finds
    // no head points of the three days (which would be sealed anew).
    const later: StoredPoint[] = [];
    for (let k = 0; k < 10; k++) {
      const timestamp = (DAY + 3) * DAY_SECONDS + round;
      later.push({ key: `k${k}`, timestamp, value: k });
      oracle.set(`k${k} ${timestamp}`, k);
    }
    await store.put(later);
    await store.close();
  }
  const messages: string[] = [];
  const store = await openEngine(tmp.path, {
    ...STORE,
    log: (m) => messages.push(m),
  });
  try {
    // Memory holds what the segments hold: each day's output replaces it.
    await store.compact();
    const compacted = messages.filter((m) => m.startsWith("compacted "));
    assertEquals(compacted.length, 3);
    for (const message of compacted) {
      assert(message.endsWith("memory took its chunks for 10 keys"), message);
    }
    assertEquals(storeLines(store), oracleLines(oracle));
    // Rewrites and late points go into the chunks memory took.
    await putRandom(store, oracle, rng, 1500);
    assertEquals(storeLines(store), oracleLines(oracle));
  } finally {
    await store.close();
  }
  await readsBackAfterRestart(tmp.path, STORE, oracle);
});
