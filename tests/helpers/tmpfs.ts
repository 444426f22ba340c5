/**
 * A small tmpfs for tests of real file-system limits (a full disk, a
 * read-only one). Mounting needs root or CAP_SYS_ADMIN; {@link TMPFS_SKIP}
 * says why the machine cannot, so such tests skip with that reason.
 *
 * @module
 */

async function run(...args: string[]): Promise<string | undefined> {
  const { success, stderr } = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "null",
    stderr: "piped",
  }).output();
  return success ? undefined : new TextDecoder().decode(stderr).trim();
}

/**
 * A tmpfs of `size` (`"512k"`) mounted on a fresh directory, read-only with
 * `readOnly`; unmounted and removed on dispose.
 *
 * @throws {Error} with `mount`'s words when it cannot be mounted.
 */
export async function tmpfs(
  size: string,
  readOnly = false,
): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir();
  const options = `${readOnly ? "ro," : ""}size=${size}`;
  const refused = await run(
    "mount",
    "-t",
    "tmpfs",
    "-o",
    options,
    "tmpfs",
    path,
  )
    .catch((error) => `${error}`);
  if (refused !== undefined) {
    await Deno.remove(path);
    throw new Error(refused);
  }
  return {
    path,
    [Symbol.asyncDispose]: async () => {
      await run("umount", path);
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** Why this machine cannot mount a tmpfs, or undefined when it can. */
export const TMPFS_SKIP: string | undefined = await tmpfs("64k").then(
  async (disk) => {
    await disk[Symbol.asyncDispose]();
    return undefined;
  },
  (error) => `cannot mount a tmpfs (${(error as Error).message})`,
);
