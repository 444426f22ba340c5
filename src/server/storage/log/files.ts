/**
 * Files in a data directory: the directory lock, fsync of the directory,
 * and copies kept aside before anything is changed.
 *
 * @module
 */

const LOCK_NAME = "metrics.lock";

/**
 * Takes the exclusive lock of `dir` (`metrics.lock`, an advisory `flock`)
 * and returns its handle; closing the handle releases it.
 *
 * @throws {Error} when another server holds it.
 */
export async function lockDirectory(dir: string): Promise<Deno.FsFile> {
  const lock = await Deno.open(`${dir}/${LOCK_NAME}`, {
    write: true,
    create: true,
  });
  if (!await lock.tryLock(true)) {
    lock.close();
    throw new Error(`${dir} is in use by another metrics server`);
  }
  return lock;
}

/** Forces a directory's entries (a rename, a new file) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/**
 * Copies the file at `path` to `<path>.<what>-<time>` before it is changed;
 * returns the copy's path.
 */
export async function copyAside(path: string, what: string): Promise<string> {
  const time = new Date().toISOString().replaceAll(":", "-");
  const copy = `${path}.${what}-${time}`;
  await Deno.copyFile(path, copy);
  return copy;
}

/** Ignores a missing file, rethrows anything else. */
export function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
