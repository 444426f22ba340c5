/**
 * A disk that really fills up under `serve({ dataDir })`: the data
 * directory on a tmpfs of 512 KiB. Needs root (or CAP_SYS_ADMIN) to mount
 * it; skipped with the reason printed when the mount is refused.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { serve } from "../../../src/server/mod.ts";
import { RawSocket } from "../../helpers/server.ts";
import { tmpfs, TMPFS_SKIP } from "../../helpers/tmpfs.ts";
import { skipped } from "../../helpers/skip.ts";

const OK = "ok\n\n";
const FULL = "error\nstorage full\n\n";

const SKIP = TMPFS_SKIP;

Deno.test({
  name:
    "a full disk: puts are answered 'storage full' on an open connection, taken again once space is freed, and nothing acknowledged is lost",
  ignore: skipped("disk full test", SKIP),
  async fn() {
    await using disk = await tmpfs("512k");
    const filler = `${disk.path}/filler`;
    await Deno.writeFile(filler, new Uint8Array(400 * 1024));
    const dataDir = `${disk.path}/data`;
    const acked: string[] = [];
    const messages: string[] = [];
    {
      await using server = await serve({
        port: 0,
        dataDir,
        log: (m) => messages.push(m),
      });
      await using socket = await RawSocket.connect(server.port);
      // About 100 KiB are left: 64-byte keys fill them within 2,000 puts.
      let full = false;
      for (let i = 0; i < 5_000 && !full; i++) {
        const key = `full.${String(i).padStart(58, "0")}`;
        await socket.send(`put ${key} ${i} ${1_000_000 + i}\n`);
        const [answer] = await socket.responses(1);
        if (answer === OK) acked.push(key);
        else {
          assertEquals(answer, FULL);
          full = true;
        }
      }
      assert(full, "the disk never filled up");
      assert(acked.length > 0, "no put was taken before the disk filled up");
      // The connection stays open and keeps refusing while the disk is full.
      await socket.send("put full.more 1 1\n");
      assertEquals(await socket.responses(1), [FULL]);
      await Deno.remove(filler);
      // The log is retried every second: within 5 s puts are taken again.
      let taken = false;
      for (let i = 0; i < 50 && !taken; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await socket.send("put full.after 2 2\n");
        taken = (await socket.responses(1))[0] === OK;
      }
      assert(taken, "puts were still refused 5 s after space was freed");
      acked.push("full.after");
    }
    assert(messages.some((m) => /written again; taking puts/.test(m)));
    await using server = await serve({ port: 0, dataDir, log: () => {} });
    await using socket = await RawSocket.connect(server.port);
    await socket.send("get *\n");
    const [all] = await socket.responses(1);
    const stored = new Set(
      all.split("\n").slice(1).map((line) => line.split(" ")[0]),
    );
    const lost = acked.filter((key) => !stored.has(key));
    assertEquals(
      lost,
      [],
      `${lost.length} of ${acked.length} acknowledged puts lost`,
    );
  },
});
