/**
 * The compaction worker's life: one worker runs batch after batch while
 * days are due, and none is left once no day is due (`worker_count.ts`
 * counts them). The disk-full test checks that a worker waiting for days
 * that keep failing is ended too.
 */

import { assertEquals } from "@std/assert";
import { DAY_SECONDS } from "../../../../src/server/storage/engine/sealed.ts";
import { tempDir } from "../../../helpers/server.ts";
import { openEngine } from "./open_engine.ts";
import { countingWorkers } from "./worker_count.ts";

const FIRST_DAY = 19_675; // 2023-11-14
/** More than one batch holds (64 days). */
const DAYS = 70;

Deno.test(`one compaction worker merges ${DAYS} due days in two batches, and is ended once no day is due`, () =>
  countingWorkers(async (count) => {
    await using tmp = await tempDir();
    const expected: string[] = [];
    // Two stores one after another: each day gets two segments.
    for (let round = 0; round < 2; round++) {
      const store = await openEngine(tmp.path, {
        sealWorker: false,
        headPoints: 2, // sealed, so the close writes them to segments
        checkpointPoints: 100_000, // one segment a day at close
        compactionClock: () => 0, // nothing is over yet
      });
      const batch = Array.from({ length: DAYS * 4 }, (_, i) => ({
        key: "k",
        timestamp: (FIRST_DAY + (i >> 2)) * DAY_SECONDS + 10 * (i & 3) + round,
        value: i + round / 10,
      }));
      await store.put(batch);
      expected.push(...batch.map((p) => `${p.timestamp} ${p.value}`));
      await store.close();
    }
    assertEquals(count.started, 0);
    const store = await openEngine(tmp.path, {
      sealWorker: false,
      compactionClock: () => (FIRST_DAY + DAYS + 1) * DAY_SECONDS,
    });
    try {
      await store.compact();
      assertEquals(store.compactions, DAYS);
      assertEquals(store.compactionsDue, 0);
      assertEquals(count, { started: 1, live: 0 });
      const [series] = store.getAll();
      assertEquals(
        Array.from(series.timestamps, (t, i) => `${t} ${series.values[i]}`),
        expected.sort(),
      );
    } finally {
      await store.close();
    }
  }));
