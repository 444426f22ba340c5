/**
 * The one abortable pause: reconnect backoff, HTTP retries and the collect
 * loop all wait with it.
 *
 * @module
 */

/**
 * Resolves after `ms`, or at once when `signal` aborts; never rejects.
 * Resolves to `true` when the pause was cut short by the signal.
 *
 * @example
 * ```ts
 * import { delay } from "./delay.ts";
 *
 * const aborted = await delay(10, new AbortController().signal); // false
 * ```
 */
export function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve(signal.aborted);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
    if (signal.aborted) done();
  });
}
