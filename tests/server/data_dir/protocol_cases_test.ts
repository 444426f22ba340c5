import { assertEquals } from "@std/assert";
import { serve } from "../../../src/server/mod.ts";
import { RawSocket, tempDir } from "../../helpers/server.ts";
import { getsOf, play, PROTOCOL_CASES } from "../../helpers/protocol_cases.ts";

Deno.test("protocol cases: the storage engine (dataDir) answers each exactly, and the same after a restart", async (t) => {
  for (const protocolCase of PROTOCOL_CASES) {
    await t.step(protocolCase.name, async () => {
      await using dir = await tempDir();
      const { requests, count } = getsOf(protocolCase);
      let before: string[];
      {
        await using server = await serve({
          port: 0,
          dataDir: dir.path,
          log: () => {},
        });
        await play(server.port, protocolCase, "first-seen");
        await using socket = await RawSocket.connect(server.port);
        await socket.send(requests);
        before = await socket.responses(count);
      }
      await using server = await serve({
        port: 0,
        dataDir: dir.path,
        log: () => {},
      });
      await using socket = await RawSocket.connect(server.port);
      await socket.send(requests);
      assertEquals(await socket.responses(count), before);
    });
  }
});
