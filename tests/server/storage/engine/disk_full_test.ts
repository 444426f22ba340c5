/**
 * A disk that really fills up under the storage engine: its directory on a
 * tmpfs of 512 KiB, checkpoints every 300 points. Needs root (or
 * CAP_SYS_ADMIN) to mount it; skipped with the reason printed when the
 * mount is refused.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { StorageRefusal } from "../../../../src/server/storage/storage.ts";
import { tmpfs, TMPFS_SKIP } from "../../../helpers/tmpfs.ts";
import { skipped } from "../../../helpers/skip.ts";
import { FakeMemory } from "./fake_memory.ts";

async function temporaryFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const part of ["segments", "wal"]) {
    for await (const { name } of Deno.readDir(`${dir}/${part}`)) {
      if (name.endsWith(".tmp")) found.push(name);
    }
  }
  return found;
}

Deno.test({
  name:
    "a full disk: checkpoints fail without leaving *.tmp, puts are refused 'storage full', taken again once space is freed, and nothing acknowledged is lost",
  ignore: skipped("disk full test", TMPFS_SKIP),
  async fn() {
    await using disk = await tmpfs("512k");
    const filler = `${disk.path}/filler`;
    await Deno.writeFile(filler, new Uint8Array(400 * 1024));
    const dir = `${disk.path}/data`;
    const messages: string[] = [];
    const acked: string[] = [];
    const store = await EngineStore.open(dir, new FakeMemory(8), {
      checkpointPoints: 300,
      retryInterval: 0.2,
      log: (m) => messages.push(m),
    });
    let refusal: unknown;
    for (let i = 0; i < 20_000 && refusal === undefined; i++) {
      const key = `full.${String(i % 500).padStart(58, "0")}`;
      try {
        await store.put([{ key, timestamp: 1_000_000 + i, value: i }]);
        acked.push(`${key} ${1_000_000 + i}`);
      } catch (error) {
        refusal = error;
      }
    }
    assert(refusal instanceof StorageRefusal, `${refusal}`);
    assertEquals((refusal as StorageRefusal).message, "storage full");
    assert(acked.length > 300, `${acked.length} puts before the disk filled`);
    assert(
      messages.some((m) => m.startsWith("warning: cannot write a checkpoint")),
      messages.join("\n"),
    );
    // Let the retries run into the full disk too.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assertEquals(await temporaryFiles(dir), []);
    await Deno.remove(filler);
    let taken = false;
    for (let i = 0; i < 50 && !taken; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      taken = await store.put([{ key: "full.after", timestamp: 1, value: 2 }])
        .then(() => true, () => false);
    }
    assert(taken, "puts were still refused 5 s after space was freed");
    acked.push("full.after 1");
    await store.close();
    const reopened = await EngineStore.open(dir, new FakeMemory(8), {
      log: () => {},
    });
    const stored = new Set(
      [...reopened.getAll()].flatMap(({ key, timestamps }) =>
        Array.from(timestamps, (t) => `${key} ${t}`)
      ),
    );
    await reopened.close();
    const lost = acked.filter((point) => !stored.has(point));
    assertEquals(lost, [], `${lost.length} of ${acked.length} lost`);
  },
});
