/**
 * How long to wait before reconnect attempt `attempt` (0-based): exponential
 * growth from `baseMs`, capped at `maxMs`, with "equal jitter" (half fixed,
 * half random) so a fleet of clients does not reconnect in lockstep yet
 * never retries with no pause at all.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 *
 * backoffDelay(0, 50, 2000, () => 1); // 50
 * backoffDelay(10, 50, 2000, () => 0); // 1000: half the cap
 * ```
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxMs, baseMs * 2 ** attempt);
  return cap / 2 + random() * cap / 2;
}
