/**
 * `serve --data DIR` that cannot be used: every cause gives one message of
 * one shape, naming the directory and what is wrong, and exit 2.
 */

import { assertEquals, assertMatch } from "@std/assert";
import { runCli, tempDir } from "../helpers/server.ts";
import { skipped } from "../helpers/skip.ts";
import { tmpfs, TMPFS_SKIP } from "../helpers/tmpfs.ts";

async function serveData(
  dir: string,
): Promise<{ code: number; first: string }> {
  const { code, stderr } = await runCli(
    ["serve", "--port", "0", "--data", dir],
    {
      permissions: ["-A"],
    },
  );
  return { code, first: stderr.split("\n")[0] };
}

Deno.test("--data where files cannot be created (/proc/sys) says so, exit 2", async () => {
  for (const dir of ["/proc/sys", "/proc/sys/metrics"]) {
    const { code, first } = await serveData(dir);
    assertEquals(code, 2, first);
    assertEquals(
      first,
      `metrics: cannot keep points in --data ${dir}: files cannot be created there; pick another directory`,
    );
  }
});

Deno.test("--data on a file says it is a file, exit 2", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/points`;
  await Deno.writeTextFile(file, "");
  for (
    const [path, problem] of [
      [file, "it is a file, not a directory"],
      [`${file}/data`, "part of the path is a file, not a directory"],
    ]
  ) {
    const { code, first } = await serveData(path);
    assertEquals(code, 2, first);
    assertMatch(
      first,
      new RegExp(
        `^metrics: cannot keep points in --data ${path}: ${problem}; pick another directory$`,
      ),
    );
  }
});

Deno.test({
  name: "--data on a read-only file system says it is read-only, exit 2",
  ignore: skipped("read-only --data test", TMPFS_SKIP),
  async fn(t) {
    await using disk = await tmpfs("64k", true);
    for (const path of [disk.path, `${disk.path}/data`]) {
      await t.step(path, async () => {
        const { code, first } = await serveData(path);
        assertEquals(code, 2, first);
        assertEquals(
          first,
          `metrics: cannot keep points in --data ${path}: the file system is read-only; pick another directory`,
        );
      });
    }
  },
});
