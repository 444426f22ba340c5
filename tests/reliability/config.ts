/**
 * Shared settings of the reliability suite: the long mode, seeds, and the
 * guards every test uses (no unhandled rejection, bounded waits).
 *
 * Set `RELIABILITY_LONG=1` (or run `deno task test:long`) for the long mode;
 * set `RELIABILITY_SEED=<n>` to replay a run whose seed a test printed.
 *
 * @module
 */

/**
 * A wait this long means a peer was starved, not slowed by a busy machine:
 * the bound of every latency check in the suite. The tight targets (250 ms)
 * are in `deno task bench`.
 */
export const STARVED_MS = 2000;

/** True in the long mode (`RELIABILITY_LONG=1`). */
export const LONG: boolean = Deno.env.get("RELIABILITY_LONG") === "1";

/** `ci` in the default run, `long` in the long mode. */
export function scale<T>(ci: T, long: T): T {
  return LONG ? long : ci;
}

/**
 * The seed of a test: `RELIABILITY_SEED` when set (to replay), else a fresh
 * random one. Tests print it in their figures line.
 */
export function seed(): number {
  const fixed = Deno.env.get("RELIABILITY_SEED");
  if (fixed !== undefined && fixed !== "") return Number(fixed) | 0;
  return (Math.random() * 2 ** 31) | 0;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Records every unhandled promise rejection while it is in scope; disposing
 * it fails the test if there was one. Declare it first in a test, so it is
 * disposed last (after clients and servers closed).
 */
export function noUnhandledRejections(): AsyncDisposable & {
  readonly count: number;
} {
  const seen: unknown[] = [];
  const listener = (event: PromiseRejectionEvent): void => {
    seen.push(event.reason);
    event.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", listener);
  return {
    get count() {
      return seen.length;
    },
    async [Symbol.asyncDispose]() {
      // Rejections are reported after a macrotask turn: give them one.
      await sleep(10);
      globalThis.removeEventListener("unhandledrejection", listener);
      if (seen.length > 0) {
        throw new Error(
          `${seen.length} unhandled promise rejection(s); the first: ${
            String(seen[0])
          }`,
          { cause: seen[0] },
        );
      }
    },
  };
}

/**
 * Runs `task` with a deadline: rejects with a message naming `what` if it
 * has not settled after `ms` (the task itself is not cancelled).
 */
export async function within<T>(
  ms: number,
  what: string,
  task: Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([task, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Heap in use now, in MiB. */
export function heapMiB(): number {
  return Deno.memoryUsage().heapUsed / 2 ** 20;
}

/** Resident set size now, in MiB. */
export function rssMiB(): number {
  return Deno.memoryUsage().rss / 2 ** 20;
}
