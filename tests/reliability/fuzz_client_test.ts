/**
 * Fuzzing of the client's response parser: random bytes, mutations of
 * valid responses, streams past its 64 KiB buffer in many pieces, and
 * every split point, at least 100,000 inputs. Each
 * must end as a parsed result or a `ClientError` and agree with a
 * reference decoder; the work runs in a worker so a hang fails the test
 * instead of freezing it. Replay a failure with `RELIABILITY_SEED=<seed>`.
 */

import { assert, assertEquals } from "@std/assert";
import { noUnhandledRejections, scale, seed } from "./config.ts";
import type { FuzzRequest, FuzzResult } from "./fuzz_client_worker.ts";
import { figures } from "./workload.ts";
import { TIME_LIMIT_MS } from "../helpers/time_limit.ts";

/** No progress report for this long, once started, means the parser hangs. */
const STALL_MS = 20_000;

Deno.test({
  name:
    "fuzz: the response parser ends every input as a result or a ClientError",
  // The watchdog tells a hang within STALL_MS of the last input; the whole
  // run took 2 min at a load average of 15 on 2 cores.
  timeout: Math.max(TIME_LIMIT_MS, 10 * 60_000),
}, async () => {
  const runSeed = seed();
  // Printed before anything can fail, so every failure can be replayed.
  console.log(`fuzz client: seed ${runSeed}`);
  await using _guard = noUnhandledRejections();
  const request: FuzzRequest = {
    seed: runSeed,
    runs: scale(
      { random: 30_000, mutated: 30_000, splits: 400, large: 100 },
      { random: 300_000, mutated: 300_000, splits: 4000, large: 1000 },
    ),
  };
  const worker = new Worker(
    new URL("./fuzz_client_worker.ts", import.meta.url),
    { type: "module" },
  );
  const started = performance.now();
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  let progress = 0;
  try {
    const result = await new Promise<FuzzResult>((resolve, reject) => {
      const arm = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(
          () =>
            reject(
              new Error(
                `no progress for ${STALL_MS} ms after ${progress} inputs: the parser hangs (seed ${runSeed})`,
              ),
            ),
          STALL_MS,
        );
      };
      worker.onmessage = (
        event: MessageEvent<FuzzResult | { progress: number }>,
      ) => {
        arm();
        if ("done" in event.data) resolve(event.data);
        else progress = event.data.progress;
      };
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`worker failed: ${event.message} (seed ${runSeed})`));
      };
      // Armed at the worker's first message, not before: loading it (and
      // type-checking it, on a first run) took over 20 s on a busy 2-core
      // machine. A worker that never starts meets the test's time limit.
      worker.postMessage(request);
    });
    const total = Object.values(result.inputs).reduce((a, b) => a + b, 0);
    console.log(
      `fuzz client: ${
        figures({
          seed: runSeed,
          inputs: total,
          ...result.inputs,
          frames: result.frames,
          clientErrors: result.clientErrors,
          otherExceptions: result.failure === undefined ? 0 : "see failure",
          seconds: ((performance.now() - started) / 1000).toFixed(1),
        })
      }`,
    );
    assertEquals(result.failure, undefined, `seed ${runSeed}`);
    assert(total >= 100_000, `only ${total} inputs`);
  } finally {
    clearTimeout(watchdog);
    worker.terminate();
  }
});
