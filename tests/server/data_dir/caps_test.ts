/**
 * `--max-keys` and `--max-points` with a data directory: the caps hold as
 * in memory, and again after a restart, which reads back the points the
 * caps let in (the chunk store behind `dataDir` counts them).
 */

import { assertEquals } from "@std/assert";
import { serve, type ServerOptions } from "../../../src/server/mod.ts";
import { RawSocket, tempDir } from "../../helpers/server.ts";

const OK = "ok\n\n";

/** Sends each request after the previous one's answer; all the answers. */
async function oneByOne(
  options: ServerOptions,
  requests: string[],
): Promise<string> {
  await using server = await serve({ port: 0, log: () => {}, ...options });
  await using socket = await RawSocket.connect(server.port);
  let answers = "";
  for (const request of requests) {
    await socket.send(request);
    answers += (await socket.responses(1))[0];
  }
  return answers;
}

Deno.test("with dataDir, past maxKeys a put of a new key is answered too many keys, after a restart too", async () => {
  await using dir = await tempDir();
  const options = { dataDir: dir.path, maxKeys: 2 };
  assertEquals(
    await oneByOne(options, ["put a 1 1\n", "put b 1 1\n", "put c 1 1\n"]),
    OK + OK + "error\ntoo many keys\n\n",
  );
  assertEquals(
    await oneByOne(options, ["put d 1 1\n", "put a 2 2\n", "get *\n"]),
    "error\ntoo many keys\n\n" + OK + "ok\na 1.0 1\na 2.0 2\nb 1.0 1\n\n",
  );
});

Deno.test("with dataDir, past maxPoints a put of a new point is answered too many points, after a restart too; a rewrite is served", async () => {
  await using dir = await tempDir();
  const options = { dataDir: dir.path, maxPoints: 2 };
  assertEquals(
    await oneByOne(options, ["put a 1 1\n", "put a 2 2\n", "put a 3 3\n"]),
    OK + OK + "error\ntoo many points\n\n",
  );
  assertEquals(
    await oneByOne(options, ["put b 3 3\n", "put a 5 2\n", "get *\n"]),
    "error\ntoo many points\n\n" + OK + "ok\na 1.0 1\na 5.0 2\n\n",
  );
});
