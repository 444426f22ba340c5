/**
 * Waiting for a data directory to settle: until no file under it is
 * added, removed, grown or touched for a few seconds. It needs nothing of
 * the store but its directory, so a bench can wait for a background
 * compaction whatever starts it.
 *
 * @module
 */

/** How {@link waitQuiet} ended. */
export interface Quiet {
  /** Milliseconds from the call to the end of the wait. */
  readonly ms: number;
  /** False when the files were still changing at the timeout. */
  readonly settled: boolean;
}

/** How often the directory is listed. */
const POLL_MS = 250;

/** Every file under `dir` as `path size mtime`, sorted. */
async function snapshot(dir: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (path: string): Promise<void> => {
    for await (const entry of Deno.readDir(path)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory) {
        await walk(child);
        continue;
      }
      // A file renamed or deleted between the listing and the stat is a
      // change the next listing shows.
      const stat = await Deno.stat(child).catch(() => undefined);
      lines.push(`${child} ${stat?.size} ${stat?.mtime?.getTime()}`);
    }
  };
  await walk(dir);
  return lines.sort().join("\n");
}

/**
 * Waits until the files under `dir` (names, sizes and modification times)
 * have not changed for `quietMs`, or `timeoutMs` has passed.
 */
export async function waitQuiet(
  dir: string,
  quietMs: number,
  timeoutMs: number,
): Promise<Quiet> {
  const started = performance.now();
  let last = await snapshot(dir);
  let since = started;
  while (performance.now() - since < quietMs) {
    if (performance.now() - started >= timeoutMs) {
      return { ms: performance.now() - started, settled: false };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const now = await snapshot(dir);
    if (now !== last) {
      last = now;
      since = performance.now();
    }
  }
  return { ms: performance.now() - started, settled: true };
}
