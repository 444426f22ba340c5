/**
 * The storage engine's durable store in the model-based storage test
 * (`../model_runner.ts`): the same seeded operations as a plain reference
 * model, with restarts from segments, checkpoints and the WAL, every
 * answer compared. Its memory is the tests' Map-of-Maps `FakeMemory`
 * sealing at 4 points, so seals, day segments and checkpoints come often.
 * Every day is over for compaction, so each checkpoint starts one that
 * runs while the operations go on, and every other restart waits for a
 * compaction of every due day first.
 * `MODEL_SEED` replays a seed.
 *
 * @module
 */

import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { runModel, type Subject } from "../model_runner.ts";
import { tempDir } from "../../../helpers/server.ts";
import { FakeMemory } from "./fake_memory.ts";

/** The engine store on a directory, reopened on a fresh memory on restarts. */
class EngineSubject implements Subject {
  readonly settleEvery = 512;
  readonly messages: string[] = [];
  readonly #dir: string;
  #storage: EngineStore | undefined;
  #restarts = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  get storage(): EngineStore {
    if (this.#storage === undefined) throw new Error("not open");
    return this.#storage;
  }

  async open(): Promise<void> {
    this.#storage = await EngineStore.open(this.#dir, new FakeMemory(4), {
      checkpointPoints: 2000,
      compactionClock: () => Infinity,
      compactionQuietMs: 0,
      log: (message) => this.messages.push(message),
    });
  }

  async restart(): Promise<void> {
    if (this.#restarts++ % 2 === 0) await this.storage.compact();
    await this.storage.close();
    await this.open();
  }
}

Deno.test("the engine store answers every operation as the model does, across restarts", async () => {
  await using tmp = await tempDir();
  const subject = new EngineSubject(tmp.path);
  await subject.open();
  const text = Deno.env.get("MODEL_SEED");
  const seed = text === undefined
    ? crypto.getRandomValues(new Uint32Array(1))[0]
    : Number(text);
  try {
    await runModel(
      "engine store",
      seed,
      {
        warmOps: 2500,
        bulkKeys: 3000,
        growShare: 0.2,
        refillShare: 0.25,
        mixedOps: 4000,
        bulkBatch: 500,
        maxBatch: 64,
        allEvery: 2000,
        restartEvery: 1000,
        finalRestart: true,
        rewriteBursts: true,
        domain: "protocol",
      },
      subject,
      Infinity,
    );
  } finally {
    await subject.storage.close();
  }
  const compactions = subject.messages.filter((m) => m.startsWith("compacted"));
  if (compactions.length === 0) throw new Error(`seed ${seed}: no compaction`);
  const problems = subject.messages.filter((line) => /warn|error/i.test(line));
  if (problems.length > 0) {
    throw new Error(`seed ${seed}: problems logged: ${problems.join("; ")}`);
  }
});
