import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { AddressInUseError, serve } from "../../src/server/mod.ts";

const quiet = { log: (): void => {} };

Deno.test("a busy port is an AddressInUseError naming port, and still an AddrInUse", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const error = await assertRejects(
    () => serve({ port: taken.addr.port, ...quiet }),
    AddressInUseError,
  );
  assertInstanceOf(error, Deno.errors.AddrInUse);
  assertEquals(
    [error.option, error.hostname, error.port],
    ["port", "127.0.0.1", taken.addr.port],
  );
});

Deno.test("a busy HTTP port is an AddressInUseError naming http, and the TCP port is let go", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // A free port for TCP, known in advance so we can check it is freed.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tcpPort = probe.addr.port;
  probe.close();
  const error = await assertRejects(
    () =>
      serve({
        port: tcpPort,
        http: { port: taken.addr.port },
        ...quiet,
      }),
    AddressInUseError,
  );
  assertEquals(
    [error.option, error.hostname, error.port],
    ["http", "127.0.0.1", taken.addr.port],
  );
  await using again = await serve({ port: tcpPort, ...quiet });
  assertEquals(again.port, tcpPort);
});
