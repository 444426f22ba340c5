/**
 * Model-based test of every {@link Storage}: the memory store, the chunk
 * store, the storage engine on it (`--data`) and, where `victoria-metrics`
 * is installed, the VictoriaMetrics store get the same seeded random
 * sequence as a plain reference model, and every answer is compared with
 * the model's (see `model_workload.ts`).
 *
 * The seed is random unless `MODEL_SEED` is set; a failure names it and the
 * op. `MODEL_LONG=1` (`deno task test:model`) runs millions of operations.
 *
 * @module
 */

import { MemoryStore } from "../../../src/server/storage/memory.ts";
import { ChunkStore } from "../../../src/server/storage/engine/store.ts";
import type { SealedChunk } from "../../../src/server/storage/engine/sealed.ts";
import type { EngineStore } from "../../../src/server/storage/engine/durable.ts";
import { VictoriaMetricsStore } from "../../../src/server/storage/victoriametrics/store.ts";
import { runModel, type RunStats, type Subject } from "./model_runner.ts";
import type { WorkloadProfile } from "./model_workload.ts";
import { tempDir } from "../../helpers/server.ts";
import { openEngine } from "./engine/open_engine.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../../helpers/victoriametrics.ts";
import { headsOf } from "./engine/heads_of.ts";

const LONG = Deno.env.get("MODEL_LONG") === "1";
/** How often a long run says how far it got. */
const PROGRESS_MS = LONG ? 60_000 : Infinity;

/** `MODEL_SEED`, or a fresh random seed. */
function seed(): number {
  const text = Deno.env.get("MODEL_SEED");
  if (text === undefined) return crypto.getRandomValues(new Uint32Array(1))[0];
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`MODEL_SEED=${text}: expected an integer`);
  }
  return value;
}

/**
 * The in-process stores: 120,000 one-point keys in bulk (the shared column
 * grows from 1024 slots past 88,573), 20% of them growing a second point,
 * then 54,000 more (past 132,860 slots); hot keys of about 5,700 points
 * (their columns grow from 4 past 5,166). The long mode: 1,500,000 keys in
 * bulk (past 1,513,357 slots after the refill) and 2,000,000 mixed ops.
 */
const LOCAL: WorkloadProfile = {
  warmOps: LONG ? 300_000 : 20_000,
  bulkKeys: LONG ? 1_500_000 : 120_000,
  growShare: 0.2,
  refillShare: 0.25,
  mixedOps: LONG ? 2_000_000 : 30_000,
  bulkBatch: 1000,
  maxBatch: 64,
  allEvery: LONG ? 500_000 : 15_000,
  restartEvery: 0,
  finalRestart: false,
  rewriteBursts: false,
  domain: "protocol",
};

function report(name: string, seed: number, stats: RunStats, ms: number) {
  console.log(
    `${name}: seed ${seed}, ${stats.ops} ops, ${stats.points} points put, ${stats.keys} keys and ${stats.storedPoints} points stored, ${stats.onePointKeys} keys of one point, longest series ${stats.longestSeries} points, ${
      Math.round(ms)
    } ms`,
  );
}

Deno.test("the memory store answers every operation as the model does", async () => {
  const at = performance.now();
  const subject = { storage: new MemoryStore() };
  const runSeed = seed();
  const stats = await runModel(
    "memory store",
    runSeed,
    LOCAL,
    subject,
    PROGRESS_MS,
  );
  report("memory store", runSeed, stats, performance.now() - at);
});

/**
 * The chunk store with a small head, so seals, midnights and rewrites of
 * sealed chunks come often. A restart builds a fresh store from every
 * chunk `takeSealed` ever gave (loaded in the order taken) and the old
 * store's heads (`writeHeads`), key by key in the old store's key order, as the
 * durable layer restores one from segments and a checkpoint.
 */
class ChunkSubject implements Subject {
  storage: ChunkStore;
  readonly #headPoints: number;
  readonly #sealWorker: boolean;
  /** Every chunk taken, per key, oldest first. */
  readonly #taken = new Map<string, SealedChunk[]>();

  constructor(headPoints: number, sealWorker = false) {
    this.#headPoints = headPoints;
    this.#sealWorker = sealWorker;
    this.storage = new ChunkStore({ headPoints, sealWorker });
  }

  #take(): void {
    for (const chunk of this.storage.takeSealed()) {
      const chunks = this.#taken.get(chunk.key) ?? [];
      this.#taken.set(chunk.key, chunks);
      chunks.push(chunk);
    }
  }

  async restart(): Promise<void> {
    // A turn for the seal worker's chunks to come back (nothing else here
    // waits on a timer): some are taken back by reads before, some not.
    if (this.#sealWorker) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.#take();
    const old = this.storage;
    const heads = new Map(headsOf(old).map((head) => [head.key, head]));
    this.storage = new ChunkStore({
      headPoints: this.#headPoints,
      sealWorker: this.#sealWorker,
    });
    for (const { key } of old.getAll()) {
      this.storage.loadSegmentChunks(key, this.#taken.get(key) ?? []);
      const head = heads.get(key);
      for (let i = 0; i < (head?.timestamps.length ?? 0); i++) {
        this.storage.upsert(key, head!.timestamps[i], head!.values[i]);
      }
    }
    // Seals the replayed heads caused go to segments like any others.
    this.#take();
    old.close();
  }
}

for (const sealWorker of [false, true]) {
  Deno.test(`the chunk store answers every operation as the model does, across rebuilds from its chunks and heads${sealWorker ? ", its full heads sealed on the seal worker" : ""}`, async () => {
    const at = performance.now();
    const runSeed = seed();
    const headPoints = 4 + runSeed % 5;
    const subject = new ChunkSubject(headPoints, sealWorker);
    const stats = await runModel(
      `chunk store (head of ${headPoints} points)`,
      runSeed,
      {
        ...LOCAL,
        // Hot keys of thousands of points in chunks of 4 to 8 points are
        // slow to rewrite and read: fewer ops than the memory store's.
        warmOps: LONG ? 300_000 : 6_000,
        bulkKeys: LONG ? 500_000 : 20_000,
        mixedOps: LONG ? 2_000_000 : 10_000,
        allEvery: LONG ? 500_000 : 5_000,
        restartEvery: LONG ? 200_000 : 3_000,
        finalRestart: true,
        // About an hour between a key's neighbouring points: hot keys span
        // hundreds of days, so heads are sealed at midnights too.
        spacing: 3607,
      },
      subject,
      PROGRESS_MS,
    );
    subject.storage.close();
    report("chunk store", runSeed, stats, performance.now() - at);
  });
}

/**
 * The storage engine as `--data` runs it (the durable store on a chunk
 * store, with small heads and frequent checkpoints), reopened on restarts.
 */
class EngineSubject implements Subject {
  readonly settleEvery = 4096;
  readonly messages: string[] = [];
  readonly #dir: string;
  readonly #headPoints: number;
  #storage: EngineStore | undefined;

  constructor(dir: string, headPoints: number) {
    this.#dir = dir;
    this.#headPoints = headPoints;
  }

  get storage(): EngineStore {
    if (this.#storage === undefined) throw new Error("the store is not open");
    return this.#storage;
  }

  async open(): Promise<void> {
    this.#storage = await openEngine(this.#dir, {
      headPoints: this.#headPoints,
      checkpointPoints: 20_000,
      // Each batch forced to disk costs time, not coverage: the kill -9
      // tests check durability.
      fsync: "interval",
      // Every day is over: a compaction after each checkpoint.
      compactionClock: () => Infinity,
      compactionQuietMs: 0,
      log: (message) => this.messages.push(message),
    });
  }

  async restart(): Promise<void> {
    // Compactions run after checkpoints; one more before each restart.
    await this.storage.compact();
    await this.storage.close();
    await this.open();
  }
}

Deno.test("the storage engine on the chunk store answers every operation as the model does, across restarts, checkpoints and rewrite bursts", async () => {
  const at = performance.now();
  await using tmp = await tempDir();
  const runSeed = seed();
  const headPoints = 4 + runSeed % 5;
  const subject = new EngineSubject(tmp.path, headPoints);
  await subject.open();
  try {
    const stats = await runModel(
      `storage engine (head of ${headPoints} points)`,
      runSeed,
      {
        ...LOCAL,
        // A restart reads every segment, and keys at random seconds of
        // all time make a segment per day they touch: fewer ops than the
        // chunk store's.
        warmOps: LONG ? 300_000 : 3_000,
        bulkKeys: LONG ? 500_000 : 5_000,
        mixedOps: LONG ? 500_000 : 4_000,
        restartEvery: LONG ? 200_000 : 2_000,
        finalRestart: true,
        rewriteBursts: true,
        // Hot keys over tens of days: seals at midnights, and a
        // checkpoint writes a segment for each day it has chunks of.
        spacing: 607,
      },
      subject,
      PROGRESS_MS,
    );
    report("storage engine", runSeed, stats, performance.now() - at);
  } finally {
    await subject.storage.close();
  }
  const problems = subject.messages.filter((line) => /warn|error/i.test(line));
  if (problems.length > 0) {
    throw new Error(
      `seed ${runSeed}: problems logged: ${problems.join("; ")}`,
    );
  }
});

/** A front-end on a real VictoriaMetrics; a restart reads only from it. */
class VictoriaMetricsSubject implements Subject {
  readonly sortedKeys = true;
  readonly settleBeforeReads = true;
  readonly messages: string[] = [];
  readonly #vm: VictoriaMetricsProcess;
  #storage: VictoriaMetricsStore | undefined;

  constructor(vm: VictoriaMetricsProcess) {
    this.#vm = vm;
  }

  get storage(): VictoriaMetricsStore {
    if (this.#storage === undefined) throw new Error("not open");
    return this.#storage;
  }

  async open(): Promise<void> {
    this.#storage = await VictoriaMetricsStore.open({
      urls: [this.#vm.url],
      flushInterval: 0.001,
      // The long run's get * exports 300,000 series: more than the default
      // 10 s on a loaded machine.
      timeout: 120,
      log: (message) => this.messages.push(message),
    });
  }

  /** A new front-end, which remembers no recent write: VictoriaMetrics alone answers. */
  async restart(): Promise<void> {
    await this.storage.close();
    await this.#vm.forceFlush();
    await this.open();
  }
}

Deno.test({
  name:
    "the VictoriaMetrics store answers every operation as the model does (keys sorted)",
  ignore: VM_SKIP_REASON !== undefined,
  async fn() {
    const at = performance.now();
    await using vm = await VictoriaMetricsProcess.start();
    const subject = new VictoriaMetricsSubject(vm);
    await subject.open();
    const runSeed = seed();
    try {
      const stats = await runModel(
        "VictoriaMetrics store",
        runSeed,
        {
          warmOps: LONG ? 50_000 : 2_000,
          bulkKeys: LONG ? 200_000 : 5_000,
          growShare: 0.2,
          refillShare: 0.25,
          mixedOps: LONG ? 100_000 : 2_000,
          bulkBatch: 1000,
          maxBatch: 32,
          allEvery: LONG ? 20_000 : 1_000,
          restartEvery: 0,
          finalRestart: true,
          rewriteBursts: false,
          domain: "victoriametrics",
        },
        subject,
        PROGRESS_MS,
      );
      report("VictoriaMetrics store", runSeed, stats, performance.now() - at);
    } finally {
      await subject.storage.close();
    }
  },
});
