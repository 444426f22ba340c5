/**
 * A data directory's files as the engine tests look at them: the names in
 * one folder, and a copy taken while a store runs.
 *
 * @module
 */

/** The names in `dir`, sorted. */
export async function namesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const { name } of Deno.readDir(dir)) found.push(name);
  return found.sort();
}

/**
 * Copies `from` to `to`, files and directories, while a store uses it:
 * what a kill -9 would leave. A file the store deleted between the listing
 * and its copy (a compaction's `*.tmp` renamed, an input removed) would
 * leave a copy no kill -9 leaves, so the copy is then taken again (up to
 * 20 times).
 */
export async function copyTree(from: string, to: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await copyOnce(from, to);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) || attempt === 20) {
        throw error;
      }
      await Deno.remove(to, { recursive: true });
    }
  }
}

async function copyOnce(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const { name, isDirectory } of Deno.readDir(from)) {
    if (isDirectory) await copyOnce(`${from}/${name}`, `${to}/${name}`);
    else await Deno.copyFile(`${from}/${name}`, `${to}/${name}`);
  }
}
