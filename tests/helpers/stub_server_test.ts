/**
 * The stub server reports a script's failure whenever it happens: a test
 * that relies on a script's checks must fail when one of them fails.
 */

import { assertEquals, AssertionError, assertRejects } from "@std/assert";
import { StubServer } from "./stub_server.ts";

async function send(port: number, text: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(text));
  conn.close();
}

Deno.test("disposing the stub rethrows a closing expectEnd that found unexpected bytes", async () => {
  const failed = assertRejects(async () => {
    await using server = new StubServer(async (conn) => {
      await conn.expect("get a\n");
      await conn.expectEnd();
    });
    // The client closes just before the test disposes the stub.
    await send(server.port, "get a\nget b\n");
  }, AssertionError);
  await failed;
});

Deno.test("disposing the stub waits for a script that ends once the client closes", async () => {
  const seen: string[] = [];
  {
    await using server = new StubServer(async (conn) => {
      for (let line = await conn.readLine(); line !== null;) {
        seen.push(line);
        line = await conn.readLine();
      }
    });
    await send(server.port, "get a\nget b\n");
  }
  assertEquals(seen, ["get a", "get b"]);
});

Deno.test("close rethrows a script's failure after it cut the connection", async () => {
  const server = new StubServer(async (conn) => {
    await conn.readLine().catch(() => {}); // cut by close
    throw new Error("a check after the cut");
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  while (server.accepted === 0) await new Promise((r) => setTimeout(r, 5));
  await assertRejects(() => server.close(), Error, "a check after the cut");
  conn.close();
});

Deno.test("a read that close cut is not a failure", async () => {
  const server = new StubServer(async (conn) => {
    await conn.expectEnd(); // the client never closes: close cuts it
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  while (server.accepted === 0) await new Promise((r) => setTimeout(r, 5));
  await server.close();
  conn.close();
});
