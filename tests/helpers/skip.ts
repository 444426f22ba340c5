/**
 * One form for the reason a real part's tests are skipped (VictoriaMetrics,
 * Chromium, openssl, a tmpfs, a pseudo-terminal): `.ci/run` collects these
 * lines, prints them beside the skipped count, and fails in CI when any
 * test was skipped.
 *
 * @module
 */

/**
 * Prints `skipped: <part>: <reason>` when `reason` is set; returns whether
 * `part`'s tests are skipped, for `Deno.test`'s `ignore` option.
 */
export function skipped(part: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  console.error(`skipped: ${part}: ${reason}`);
  return true;
}
