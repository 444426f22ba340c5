/**
 * The storage engine's disk budget (`maxDiskBytes`): its steps, a steady
 * stream of puts under it, and the budget that the newest day alone
 * passes (`storage full`). Every acknowledged point that should be kept
 * reads back, before and after a restart.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  budgetStep,
  type DayFiles,
} from "../../../../src/server/storage/engine/disk_budget.ts";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { ChunkStore } from "../../../../src/server/storage/engine/store.ts";
import {
  StorageRefusal,
  type StoredPoint,
} from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { Rng } from "../../../reliability/rng.ts";

const DAY = 86_400;
/** 2025-01-01T00:00:00Z: day 20089. */
const START = Date.UTC(2025, 0, 1) / 1000;

function day(n: number, bytes: number): DayFiles {
  return { day: n, bytes, segments: 1 };
}

Deno.test("a budget step: nothing while the files fit, the oldest day past it", () => {
  const days = [day(3, 100), day(4, 100), day(5, 100)];
  assertEquals(budgetStep({ total: 350, days }, 350), { kind: "within" });
  assertEquals(budgetStep({ total: 351, days }, 350), {
    kind: "delete",
    day: days[0],
  });
  // One day a step, though deleting it alone does not bring them within.
  assertEquals(budgetStep({ total: 400, days }, 210), {
    kind: "delete",
    day: days[0],
  });
});

Deno.test("a budget step deletes nothing when the newest day and the checkpoint alone pass the budget", () => {
  const days = [day(3, 100), day(4, 100), day(5, 100)];
  // A checkpoint of 100 B beside the newest day's 100 B: 200 B kept.
  assertEquals(budgetStep({ total: 400, days }, 199), {
    kind: "full",
    kept: 200,
  });
  assertEquals(budgetStep({ total: 400, days }, 200), {
    kind: "delete",
    day: days[0],
  });
  assertEquals(budgetStep({ total: 150, days: [day(9, 100)] }, 120), {
    kind: "full",
    kept: 150,
  });
  assertEquals(budgetStep({ total: 150, days: [] }, 120), {
    kind: "full",
    kept: 150,
  });
});

/** The disk space the files under `dir`'s `segments/` and `wal/` take. */
interface Bytes {
  /** Every file. */
  total: number;
  /** The WAL files, which the budget does not count. */
  wal: number;
  /** The largest segment file. */
  largestSegment: number;
  /** The checkpoint files. */
  checkpoint: number;
  /** Each segment file's, by name. */
  segments: Map<string, number>;
}

async function directoryBytes(dir: string): Promise<Bytes> {
  const bytes = {
    total: 0,
    wal: 0,
    largestSegment: 0,
    checkpoint: 0,
    segments: new Map<string, number>(),
  };
  for (const part of ["segments", "wal"]) {
    for await (const { name } of Deno.readDir(`${dir}/${part}`)) {
      // Disk space, as the budget and du count it.
      const size = await Deno.stat(`${dir}/${part}/${name}`).then(
        (info) => info.blocks === null ? info.size : info.blocks * 512,
        () => 0, // deleted meanwhile
      );
      bytes.total += size;
      if (/^\d+$/.test(name)) bytes.wal += size;
      else if (name.startsWith("checkpoint.")) bytes.checkpoint += size;
      else if (name.endsWith(".seg")) {
        bytes.largestSegment = Math.max(bytes.largestSegment, size);
        bytes.segments.set(name, size);
      }
    }
  }
  return bytes;
}

/** The stream's points: `keys` keys, one point each every `step` seconds. */
class Stream {
  readonly keys: number;
  readonly step: number;
  readonly #rng: Rng;
  /** What was acknowledged, per key: timestamp → value. */
  readonly acked = new Map<string, Map<number, number>>();
  #t = START;

  constructor(seed: number, keys: number, step: number) {
    this.#rng = new Rng(seed);
    this.keys = keys;
    this.step = step;
  }

  /** The newest timestamp put so far. */
  get newest(): number {
    return this.#t - this.step;
  }

  /** The next `steps` time steps of every key. */
  next(steps: number): StoredPoint[] {
    const points: StoredPoint[] = [];
    for (let s = 0; s < steps; s++, this.#t += this.step) {
      for (let k = 0; k < this.keys; k++) {
        // Full-precision values: about 8 B a point in chunks.
        points.push({
          key: `k${k}`,
          timestamp: this.#t,
          value: this.#rng.next() * 1000,
        });
      }
    }
    return points;
  }

  acknowledge(points: readonly StoredPoint[]): void {
    for (const { key, timestamp, value } of points) {
      let series = this.acked.get(key);
      if (series === undefined) this.acked.set(key, series = new Map());
      series.set(timestamp, value);
    }
  }

  /** Acknowledged points before `before`. */
  countBefore(before: number): number {
    let count = 0;
    for (const series of this.acked.values()) {
      for (const t of series.keys()) if (t < before) count++;
    }
    return count;
  }

  /**
   * Compares the points `store` holds from `from` on (all of them with
   * `whole`, so none older may be there) with those acknowledged from
   * `from` on, for the first `keys` keys; returns the first differences.
   */
  differences(
    store: EngineStore,
    from: number,
    { whole = true, keys = this.keys } = {},
  ): string[] {
    const wrong: string[] = [];
    for (let k = 0; k < keys && wrong.length < 5; k++) {
      const key = `k${k}`;
      const expected = [...this.acked.get(key) ?? []].filter(([t]) => t >= from)
        .sort(([a], [b]) => a - b);
      const got = store.getRange(key, whole ? -Infinity : from, Infinity);
      const actual = got === undefined
        ? []
        : Array.from(got.timestamps, (t, i) => [t, got.values[i]]);
      const shown = (points: number[][]) =>
        `${points.length} points ${points[0]?.[0]}..${points.at(-1)?.[0]}`;
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        wrong.push(`${key}: ${shown(actual)}, expected ${shown(expected)}`);
      }
    }
    return wrong;
  }
}

Deno.test("under a 1 MB budget and a steady stream the oldest days go, the files stay within the budget plus the WAL and a checkpoint's files, and every point kept reads back across a restart", async () => {
  await using tmp = await tempDir();
  const BUDGET = 1_000_000;
  const messages: string[] = [];
  let sizeDeleted = 0;
  const open = () =>
    EngineStore.open(tmp.path, new ChunkStore({ headPoints: 24 }), {
      checkpointPoints: 1500,
      fsync: "interval", // the budget is tested here, not durability
      maxDiskBytes: BUDGET,
      onSizeDeleted: (points) => sizeDeleted += points,
      log: (message) => messages.push(message),
    });
  // 50 keys, one point each every 10 minutes: 7,200 points a day.
  const stream = new Stream(22, 50, 600);
  let store = await open();
  const peak = {
    total: 0,
    counted: 0,
    wal: 0,
    largestSegment: 0,
    checkpoint: 0,
    written: 0,
  };
  let before = new Map<string, number>();
  try {
    // 40 days in batches of 500 points.
    for (let batch = 0; batch < 40 * 144 / 10; batch++) {
      const points = stream.next(10);
      await store.put(points);
      stream.acknowledge(points);
      const bytes = await directoryBytes(tmp.path);
      peak.total = Math.max(peak.total, bytes.total);
      peak.counted = Math.max(peak.counted, bytes.total - bytes.wal);
      peak.wal = Math.max(peak.wal, bytes.wal);
      peak.largestSegment = Math.max(peak.largestSegment, bytes.largestSegment);
      peak.checkpoint = Math.max(peak.checkpoint, bytes.checkpoint);
      // Segments written since the last look: a checkpoint's, or more.
      let written = 0;
      for (const [name, size] of bytes.segments) {
        if (!before.has(name)) written += size;
      }
      before = bytes.segments;
      peak.written = Math.max(peak.written, written);
      // The newest day reads back whole at every moment.
      const newestDay = Math.floor(stream.newest / DAY) * DAY;
      assertEquals(
        stream.differences(store, newestDay, { whole: false, keys: 10 }),
        [],
      );
    }
    // The last checkpoint and its budget step finish first.
    await store.close();
    const closed = store.oldestKept ?? START;
    // The files written at close may pass the budget: a day more goes.
    store = await open();
    const floor = store.oldestKept ?? closed;
    assertEquals(stream.differences(store, floor), []);
    assertEquals(sizeDeleted, stream.countBefore(floor));
    const told = messages.filter((m) => m.startsWith("disk budget:"));
    const segmentsDeleted = told.reduce(
      (sum, m) => sum + Number(/deleted the (\d+) segments/.exec(m)?.[1] ?? 1),
      0,
    );
    const daysDeleted = (floor - START) / DAY;
    assertEquals(told.length, daysDeleted);
    assert(daysDeleted >= 15, `${daysDeleted} days deleted`);
    // A day is one segment once compacted, several while it is not yet.
    assert(
      segmentsDeleted >= daysDeleted,
      `${segmentsDeleted} segments deleted`,
    );
    const final = await directoryBytes(tmp.path);
    assert(
      final.total - final.wal <= BUDGET,
      `${final.total} B after a restart`,
    );
    // Past the budget between two steps: what a checkpoint writes (its
    // segments, and the checkpoint written before the older one is
    // deleted; two, when the step of one waits for the next one's write),
    // and the WAL.
    const slack = 2 * (peak.written + peak.checkpoint);
    assert(
      peak.counted <= BUDGET + slack,
      `peak ${peak.counted} B counted, over ${BUDGET} + ${slack}`,
    );
    console.log(
      `budget ${BUDGET} B: peak ${peak.counted} B counted, ${peak.total} B with the WAL (WAL up to ${peak.wal} B, largest segment ${peak.largestSegment} B, checkpoint up to ${peak.checkpoint} B, segments written between two looks up to ${peak.written} B); ${daysDeleted} days, ${segmentsDeleted} segments and ${sizeDeleted} points deleted; ${final.total} B after the restart`,
    );
    assertEquals(messages.filter((m) => /warning/.test(m)), []);
  } finally {
    await store.close();
  }
});

/** Names of the segment files in `dir`, sorted. */
async function segmentNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const { name } of Deno.readDir(`${dir}/segments`)) {
    names.push(name);
  }
  return names.sort();
}

Deno.test("when the newest day and the checkpoint alone pass the budget, puts are answered storage full and nothing is deleted, until a retention makes room", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const store = await EngineStore.open(
    tmp.path,
    new ChunkStore({ headPoints: 24 }),
    {
      checkpointPoints: 500,
      fsync: "interval",
      maxDiskBytes: 20_000,
      log: (message) => messages.push(message),
    },
  );
  const stream = new Stream(7, 50, 600);
  let refusal: unknown;
  try {
    // A day is about 50 KB of segments: the first day passes 20 KB alone.
    for (let batch = 0; batch < 144 && refusal === undefined; batch++) {
      const points = stream.next(1);
      await store.put(points).then(
        () => stream.acknowledge(points),
        (error) => refusal = error,
      );
      // Checkpoints, and the budget's check after each, keep pace.
      if (batch % 10 === 9) await new Promise((r) => setTimeout(r, 20));
    }
    assert(refusal instanceof StorageRefusal, `${refusal}`);
    assertEquals((refusal as StorageRefusal).message, "storage full");
    const next = stream.next(1)[0];
    assertEquals(store.refusal(next), "storage full");
    assertMatch(
      messages.find((m) => m.startsWith("warning:")) ?? "",
      /needs \d.* for the newest day's segments and the checkpoint, more than its disk budget of 20 KB; puts are answered storage full/,
    );
    assertEquals(messages.filter((m) => m.startsWith("disk budget:")), []);
    assertEquals(stream.differences(store, START), []);
    const files = await segmentNames(tmp.path);
    assert(files.length > 0 && files.every((f) => f.startsWith("2025-01-01")));
    // A retention deletes the whole first day: there is room again.
    const deleted = await store.expire(START + DAY);
    assertEquals(deleted, stream.countBefore(START + DAY));
    assertEquals(await segmentNames(tmp.path), []);
    assertMatch(
      messages.at(-1)!,
      /within its disk budget of 20 KB; puts are taken$/,
    );
    const later = { key: "k0", timestamp: START + DAY, value: 1 };
    assertEquals(store.refusal(later), undefined);
    await store.put([later]);
  } finally {
    await store.close();
  }
});
