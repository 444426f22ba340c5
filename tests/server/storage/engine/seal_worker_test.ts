/**
 * Heads sealed on the seal worker (`seal_queue.ts`): their points read
 * back while they are on their way and once they are back, a rewrite of
 * one of them wins, and the chunks are the ones the main thread would
 * have encoded.
 */

import { assert, assertEquals } from "@std/assert";
import { ChunkStore } from "../../../../src/server/storage/engine/store.ts";
import { KeySeries } from "../../../../src/server/storage/engine/key_series.ts";
import {
  DAY_SECONDS,
  type SealedChunk,
} from "../../../../src/server/storage/engine/sealed.ts";
import {
  type SealJob,
  type SealOwner,
  SealQueue,
  type SealReply,
} from "../../../../src/server/storage/engine/seal_queue.ts";
import { Head } from "../../../../src/server/storage/engine/head.ts";
import { encodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import { pairs } from "./expected_store.ts";

const MIDNIGHT = 19_800 * DAY_SECONDS;
const KEYS = 50;
const PER_KEY = 400;

/** Puts `PER_KEY` points of each of `KEYS` keys, interleaved, a turn at every 1,000. */
async function fill(store: ChunkStore): Promise<void> {
  for (let i = 0; i < PER_KEY; i++) {
    for (let k = 0; k < KEYS; k++) {
      store.upsert(`k${k}`, MIDNIGHT + 10 * i, (k * 31 + i) / 100);
    }
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Waits until the worker had time to answer every message. */
async function quiet(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `body` on a store sealing on the worker, closed after it. */
async function withWorker(
  headPoints: number,
  body: (store: ChunkStore) => Promise<void>,
): Promise<void> {
  const store = new ChunkStore({ headPoints, sealWorker: true });
  try {
    await body(store);
  } finally {
    store.close();
  }
}

const summary = (chunks: readonly SealedChunk[]) =>
  chunks.map((c) => [c.key, c.first, c.last, c.count, [...c.bytes]])
    .sort((a, b) => `${a[0]}`.localeCompare(`${b[0]}`) || +a[1] - +b[1]);

function expectedPairs(k: number): [number, number][] {
  return Array.from(
    { length: PER_KEY },
    (_, i) => [MIDNIGHT + 10 * i, (k * 31 + i) / 100],
  );
}

Deno.test("heads sealed on the worker read back on their way and once back, as the same chunks as sealed here", async () => {
  const here = new ChunkStore({ headPoints: 8 });
  const worker = new ChunkStore({ headPoints: 8, sealWorker: true });
  try {
    await fill(here);
    await fill(worker);
    // Some runs are still on their way: every point reads back now.
    for (let k = 0; k < KEYS; k++) {
      assertEquals(pairs(worker.get(`k${k}`)), expectedPairs(k));
    }
    await quiet();
    for (let k = 0; k < KEYS; k++) {
      assertEquals(pairs(worker.get(`k${k}`)), expectedPairs(k));
    }
    assertEquals(worker.size(), here.size());
    assertEquals(summary(worker.takeSealed()), summary(here.takeSealed()));
  } finally {
    worker.close();
  }
});

Deno.test("a rewrite of a point whose head is on the worker wins, and the point is counted once", () =>
  withWorker(4, async (store) => {
    for (let i = 0; i < 8; i++) store.upsert("k", MIDNIGHT + i, i);
    // Both full heads were sent; this rewrites a point of the first.
    store.upsert("k", MIDNIGHT + 1, 100);
    await quiet();
    assertEquals(store.size(), { keys: 1, points: 8 });
    assertEquals(
      pairs(store.get("k")),
      Array.from({ length: 8 }, (_, i) => [MIDNIGHT + i, i === 1 ? 100 : i]),
    );
  }));

Deno.test("takeSealed right after the puts gives every full head's chunk, the worker's answers then dropped", () =>
  withWorker(4, async (store) => {
    for (let i = 0; i < 9; i++) store.upsert("k", MIDNIGHT + i, i);
    const taken = store.takeSealed();
    assertEquals(taken.map((c) => [c.first - MIDNIGHT, c.count]), [[0, 4], [
      4,
      4,
    ]]);
    await quiet();
    assertEquals(store.takeSealed(), []);
    assertEquals(pairs(store.get("k")).length, 9);
  }));

Deno.test("a worker ended after two idle seconds is started again by the next burst of seals", () =>
  withWorker(8, async (store) => {
    await fill(store);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (let i = PER_KEY; i < 2 * PER_KEY; i++) {
      for (let k = 0; k < KEYS; k++) {
        store.upsert(`k${k}`, MIDNIGHT + 10 * i, (k * 31 + i) / 100);
      }
    }
    await quiet();
    for (let k = 0; k < KEYS; k++) {
      const points = pairs(store.get(`k${k}`));
      assertEquals(points.length, 2 * PER_KEY);
      assertEquals(points.slice(0, PER_KEY), expectedPairs(k));
    }
    assertEquals(store.takeSealed().length, KEYS * 2 * PER_KEY / 8);
  }));

Deno.test("with sealWorkerAfter the worker starts only once that many points were sealed under a steady load", async () => {
  const store = new ChunkStore({
    headPoints: 8,
    sealWorker: true,
    sealWorkerAfter: KEYS * PER_KEY / 2,
  });
  // Told only of chunks the worker encoded.
  const sealed = KeySeries.prototype.sealed;
  let fromWorker = 0;
  KeySeries.prototype.sealed = function (run, bytes) {
    fromWorker++;
    sealed.call(this, run, bytes);
  };
  try {
    await fill(store);
    await quiet();
    assert(fromWorker > 0, "the worker never started");
    // At most the heads of the second half of the points.
    assert(
      fromWorker <= KEYS * PER_KEY / 2 / 8,
      `${fromWorker} from the worker`,
    );
    for (let k = 0; k < KEYS; k++) {
      assertEquals(pairs(store.get(`k${k}`)), expectedPairs(k));
    }
  } finally {
    KeySeries.prototype.sealed = sealed;
    store.close();
  }
});

Deno.test("the seal worker reads a job's shared columns (neither moved nor copied) and gives them back whole with its chunks", async () => {
  const worker = new Worker(
    new URL(
      "../../../../src/server/storage/engine/seal_worker.ts",
      import.meta.url,
    ).href,
    { type: "module" },
  );
  try {
    // Columns with room past the job's six points, as the queue's have.
    const shared = (bytes: number) => new SharedArrayBuffer(bytes);
    const job: SealJob = {
      first: 7,
      timestamps: new Float64Array(shared(8 * 16)).subarray(0, 6),
      values: new Float64Array(shared(8 * 8)).subarray(0, 6),
      ends: new Uint32Array(shared(4 * 2)),
    };
    job.ends.set([2, 6]);
    for (let i = 0; i < 6; i++) {
      job.timestamps[i] = MIDNIGHT + i;
      job.values[i] = i / 4;
    }
    const answered = new Promise<SealReply>((resolve) => {
      worker.onmessage = (event: MessageEvent<SealReply>) =>
        resolve(event.data);
    });
    worker.postMessage(job);
    // Shared, not handed over: the sender's views are whole.
    assertEquals(job.timestamps.length, 6);
    const { first, bytes, ends, spent } = await answered;
    assertEquals(first, 7);
    assertEquals(
      [...spent.timestamps],
      Array.from({ length: 6 }, (_, i) => MIDNIGHT + i),
    );
    assertEquals([...spent.values], [0, 0.25, 0.5, 0.75, 1, 1.25]);
    assertEquals([...spent.ends], [2, 6]);
    // The whole buffers come back, room past the job's points included,
    // and they are the sender's memory, not copies of it.
    assertEquals(spent.timestamps.buffer.byteLength, 8 * 16);
    assertEquals(spent.values.buffer.byteLength, 8 * 8);
    spent.values[0] = 42;
    assertEquals(job.values[0], 42);
    assertEquals(
      bytes.subarray(0, ends[0]),
      encodeChunk([MIDNIGHT, MIDNIGHT + 1], [0, 0.25]),
    );
    assertEquals(
      bytes.subarray(ends[0], ends[1]),
      encodeChunk(
        [MIDNIGHT + 2, MIDNIGHT + 3, MIDNIGHT + 4, MIDNIGHT + 5],
        [0.5, 0.75, 1, 1.25],
      ),
    );
  } finally {
    worker.terminate();
  }
});

Deno.test("an emptied head is taken again for the next full one, and let go with the worker once it idled", async () => {
  const queue = new SealQueue(0);
  try {
    const chunks = new Map<Head, Uint8Array>();
    const owner: SealOwner = {
      sealed: (run, bytes) => {
        chunks.set(run.head, bytes.slice());
        queue.giveHead(run.head);
      },
      settle: () => {},
    };
    // Eight runs in one task start the worker.
    const heads = Array.from({ length: 8 }, (_, k) => {
      const head = new Head(4);
      for (let i = 0; i < 4; i++) head.append(MIDNIGHT + i, k + i);
      return head;
    });
    // From a task of its own, as a server's puts come: the test body's
    // first synchronous run saw the queue's message sent after one head.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        for (const head of heads) queue.send(owner, head);
        resolve();
      }, 0)
    );
    for (let i = 0; i < 100 && chunks.size < heads.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    heads.forEach((head, k) =>
      assertEquals(
        chunks.get(head),
        encodeChunk(
          Array.from({ length: 4 }, (_, i) => MIDNIGHT + i),
          Array.from({ length: 4 }, (_, i) => k + i),
        ),
      )
    );
    // Emptied and kept: the next key whose head is sent takes one.
    const reused = queue.takeHead(4);
    assert(heads.includes(reused));
    assertEquals(reused.length, 0);
    queue.giveHead(reused);
    // Two idle seconds end the worker, and the spare heads go with it.
    await new Promise((resolve) => setTimeout(resolve, 2300));
    assert(!heads.includes(queue.takeHead(4)));
  } finally {
    queue.close();
  }
});
