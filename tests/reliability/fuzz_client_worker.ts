/**
 * Worker: runs the response-parser properties of `response_fuzz.ts` and
 * reports progress, so the test can tell a hang from slow work.
 *
 * Message in: `{ seed, runs: { random, mutated, splits, large } }`.
 * Messages out: `{ progress: 0 }` at the start, `{ progress }` every 2,000
 * inputs or every second, then `{ done, figures, failure? }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import fc from "../helpers/fast_check.ts";
import {
  checkAgainstReference,
  checkEverySplit,
  counter,
  largeArb,
  maxArb,
  mutatedArb,
  randomArb,
  streamArb,
} from "./response_fuzz.ts";

/** What the test asks for. */
export interface FuzzRequest {
  seed: number;
  runs: { random: number; mutated: number; splits: number; large: number };
}

/** What the worker answers at the end. */
export interface FuzzResult {
  done: true;
  inputs: Record<string, number>;
  frames: number;
  clientErrors: number;
  failure: string | undefined;
}

const cutsArb = fc.array(fc.nat(), { maxLength: 6 });
/** Up to 200 cuts: a large stream arrives in many pieces, as from TCP. */
const manyCutsArb = fc.integer({ min: 0, max: 200 }).chain((length) =>
  fc.array(fc.nat(), { minLength: length, maxLength: length })
);

self.onmessage = (event: MessageEvent<FuzzRequest>) => {
  // Loaded and started: the test's hang watchdog runs from here.
  self.postMessage({ progress: 0 });
  const { seed, runs } = event.data;
  let last = 0;
  let lastAt = performance.now();
  // Every 2,000 inputs or every second: a large stream takes seconds on a
  // busy machine, and the watchdog must hear of each one that ends.
  const tick = (): void => {
    const now = performance.now();
    if (counter.inputs - last >= 2000 || now - lastAt >= 1000) {
      last = counter.inputs;
      lastAt = now;
      self.postMessage({ progress: counter.inputs });
    }
  };
  const inputs: Record<string, number> = {};
  let failure: string | undefined;
  const phases: [string, number, fc.IPropertyWithHooks<unknown>][] = [
    [
      "random",
      runs.random,
      fc.property(randomArb, cutsArb, maxArb, (bytes, cuts, max) => {
        checkAgainstReference(bytes, cuts, max);
        tick();
      }),
    ],
    [
      "mutated",
      runs.mutated,
      fc.property(
        fc.oneof(mutatedArb, streamArb),
        cutsArb,
        maxArb,
        (bytes, cuts, max) => {
          checkAgainstReference(bytes, cuts, max);
          tick();
        },
      ),
    ],
    [
      "large",
      runs.large,
      fc.property(largeArb, manyCutsArb, (bytes, cuts) => {
        checkAgainstReference(bytes, cuts, 1 << 20);
        tick();
      }),
    ],
    [
      "splits",
      runs.splits,
      fc.property(fc.oneof(mutatedArb, streamArb), maxArb, (bytes, max) => {
        checkEverySplit(bytes, max);
        tick();
      }),
    ],
  ];
  for (const [name, numRuns, property] of phases) {
    const before = counter.inputs;
    const details = fc.check(property, { seed, numRuns });
    inputs[name] = counter.inputs - before;
    if (details.failed) {
      failure = `${name}: ${details.errorInstance}\n${
        fc.defaultReportMessage(details)
      }`;
      break;
    }
  }
  const result: FuzzResult = {
    done: true,
    inputs,
    frames: counter.frames,
    clientErrors: counter.clientErrors,
    failure,
  };
  self.postMessage(result);
};
