/**
 * Runs a {@link Workload} against a store and the {@link StorageModel} side
 * by side, comparing every answer. Any failure is rethrown with the seed
 * and the index of the operation, so `MODEL_SEED=<seed>` replays it.
 *
 * @module
 */

import type { Series, Storage } from "../../../src/server/storage/storage.ts";
import { StorageModel } from "./model.ts";
import { checkAll, checkSeries, checkSize } from "./model_check.ts";
import {
  type ModelOp,
  Workload,
  type WorkloadProfile,
} from "./model_workload.ts";

/** A store under test, and what it does on the ops only some stores take. */
export interface Subject {
  /** The store now (a restart may replace it). */
  readonly storage: Storage;
  /** `get *` answers keys sorted by name, not in first-seen order. */
  readonly sortedKeys?: boolean;
  /** Reads see a put only once it settled (a remote backend). */
  readonly settleBeforeReads?: boolean;
  /**
   * Awaits the puts once this many points were put without a wait, so a
   * store that writes in the background writes in batches of about that.
   * @default {Infinity}
   */
  readonly settleEvery?: number;
  /** Closes the store and opens it again on the same data. */
  restart?(): Promise<void>;
}

/** What a run did. */
export interface RunStats {
  readonly ops: number;
  readonly points: number;
  readonly keys: number;
  readonly storedPoints: number;
  readonly longestSeries: number;
  /** Keys holding one point at the end. */
  readonly onePointKeys: number;
}

/** One line for a failure message. */
function describe(op: ModelOp | undefined): string {
  if (op === undefined) return "before the first op";
  switch (op.kind) {
    case "put": {
      const shown = op.points.slice(0, 3).map(({ key, timestamp, value }) =>
        `${key} ${Object.is(value, -0) ? "-0" : value} ${timestamp}`
      );
      return `put of ${op.points.length} points: ${shown.join(", ")}${
        op.points.length > 3 ? ", …" : ""
      }`;
    }
    case "get":
      return `get ${JSON.stringify(op.key)}`;
    case "getRange":
      return `getRange ${JSON.stringify(op.key)} ${op.from} ${op.to}`;
    default:
      return op.kind;
  }
}

/**
 * Applies every op of the seeded workload to the model and to `subject`,
 * checking each answer; throws an `Error` naming the seed and the op.
 * With `progressMs`, prints how far it got that often (long runs).
 */
export async function runModel(
  name: string,
  seed: number,
  profile: WorkloadProfile,
  subject: Subject,
  progressMs = Infinity,
): Promise<RunStats> {
  const started = performance.now();
  let reported = started;
  const model = new StorageModel();
  const workload = new Workload(seed, model, profile);
  /** Puts not awaited yet; a rejection is kept for the next settle. */
  const pending = new Set<Promise<void>>();
  let rejected: { error: unknown; at: number } | undefined;
  let index = 0;
  let op: ModelOp | undefined;
  let putPoints = 0;
  let unsettled = 0;
  /** Whether everything was compared since the last put. */
  let checked = false;
  const settle = async () => {
    unsettled = 0;
    await Promise.allSettled(pending);
    pending.clear();
    if (rejected !== undefined) {
      throw new Error(`the put of op #${rejected.at} rejected`, {
        cause: rejected.error,
      });
    }
  };
  const checkEverything = async () => {
    checkAll(await subject.storage.getAll(), model, subject.sortedKeys);
    if (subject.storage.streamAll !== undefined) {
      // A streamed series is read before the next is asked for: copied.
      const streamed: Series[] = [];
      for await (const series of subject.storage.streamAll()) {
        streamed.push({
          key: series.key,
          timestamps: Array.from(series.timestamps),
          values: Array.from(series.values),
        });
      }
      checkAll(streamed, model, subject.sortedKeys);
    }
    const size = subject.storage.size?.();
    if (size !== undefined) checkSize(size, model);
  };
  try {
    for (op of workload.ops()) {
      const storage = subject.storage;
      switch (op.kind) {
        case "put": {
          checked = false;
          model.put(op.points);
          putPoints += op.points.length;
          const at = index;
          const put = storage.put(op.points);
          if (put instanceof Promise && !pending.has(put)) {
            pending.add(put);
            put.catch((error) => rejected ??= { error, at });
          }
          unsettled += op.points.length;
          if (unsettled >= (subject.settleEvery ?? Infinity)) await settle();
          break;
        }
        case "get": {
          if (subject.settleBeforeReads) await settle();
          checkSeries("get", await storage.get(op.key), model.get(op.key));
          break;
        }
        case "getRange": {
          if (subject.settleBeforeReads) await settle();
          const actual = await storage.getRange?.(op.key, op.from, op.to);
          const expected = model.getRange(op.key, op.from, op.to);
          checkSeries("getRange", actual, expected, true);
          break;
        }
        case "getAll":
          if (subject.settleBeforeReads) await settle();
          await checkEverything();
          checked = true;
          break;
        case "size": {
          const size = storage.size?.();
          if (size !== undefined) checkSize(size, model);
          break;
        }
        case "restart":
          await settle();
          await subject.restart?.();
          await checkEverything();
          checked = true;
          break;
      }
      index++;
      if (performance.now() - reported > progressMs) {
        reported = performance.now();
        const { keys, points } = model.size();
        console.log(
          `${name}: seed ${seed}, op #${index}, ${keys} keys, ${points} points, ${
            Math.round((reported - started) / 1000)
          } s`,
        );
      }
    }
    op = undefined;
    await settle();
    if (!checked) await checkEverything();
  } catch (error) {
    const message = `${name}: seed ${seed}, op #${index} (${describe(op)}): ${
      error instanceof Error ? error.message : error
    }\nreplay with MODEL_SEED=${seed}`;
    console.error(message);
    throw new Error(message, { cause: error });
  }
  const size = model.size();
  let longestSeries = 0;
  let onePointKeys = 0;
  for (const key of model.keys()) {
    const count = model.pointCount(key);
    longestSeries = Math.max(longestSeries, count);
    if (count === 1) onePointKeys++;
  }
  return {
    ops: index,
    points: putPoints,
    keys: size.keys,
    storedPoints: size.points,
    longestSeries,
    onePointKeys,
  };
}
