/**
 * What an operator can do about a refused put, for the server's log line:
 * the reasons are the storage's (`too many points`, `too many keys`,
 * `storage full`); the client sees only the reason itself.
 *
 * @module
 */

const HINTS: Readonly<Record<string, string>> = {
  "too many points":
    "the server holds its most points (--max-points, serve({ maxPoints })): raise it, or let old points go with --retention (and --max-disk with --data)",
  "too many keys":
    "the server holds its most keys (--max-keys, serve({ maxKeys })): raise it if these keys are wanted",
  "storage full":
    "the data directory cannot take more: free disk space there, or bound it with --max-disk or --retention; puts are taken again once there is room",
};

/** `reason` followed by what an operator can do about it, when known. */
export function withRefusalHint(reason: string): string {
  const hint = HINTS[reason];
  return hint === undefined ? reason : `${reason} (${hint})`;
}
