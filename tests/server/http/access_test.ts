/**
 * Who may use the HTTP port: the allow-list covers it as it covers the TCP
 * port, and one address cannot take every HTTP connection. Clients connect
 * from 127.0.0.2 as well as 127.0.0.1: both are loopback on Linux, where
 * these tests run (`--allow-net` must name 127.0.0.2, as `deno task test`
 * does).
 */

/** Only Linux routes all of 127.0.0.0/8 to the loopback interface. */
const ignore = Deno.build.os !== "linux";

import { assertEquals, assertMatch } from "@std/assert";
import { serve } from "../../../src/server/mod.ts";
import {
  getRequest,
  HttpSocket,
  rawHttp,
  statusOf,
} from "../../helpers/http.ts";
import { RawSocket } from "../../helpers/server.ts";

Deno.test({
  name:
    "the allow-list covers the HTTP port: a peer outside it is closed unanswered, one inside is served",
  ignore,
}, async () => {
  const logged: string[] = [];
  await using server = await serve({
    port: 0,
    allowFrom: ["127.0.0.2/32"],
    log: (line) => logged.push(line),
    http: { port: 0 },
  });
  const port = server.http!.port;
  const outside = await rawHttp(port, getRequest("/api/series?key=a"));
  assertEquals(outside.text, "");
  const inside = await rawHttp(
    port,
    getRequest("/api/series?key=a"),
    "127.0.0.2",
  );
  assertEquals(statusOf(inside.text), 200);
  // The TCP port refuses the same peer, and both count as refusals.
  await using tcp = await RawSocket.connect(server.port);
  assertEquals(await tcp.rest(), "");
  assertEquals(server.accessStats().refusedPeers, 2);
  assertEquals(logged.length, 1, logged.join("\n"));
  assertMatch(
    logged[0],
    /^refused a connection from 127\.0\.0\.1: not in the allow-list/,
  );
});

Deno.test({
  name:
    "past http maxConnectionsPerPeer an address's connections are closed, another address's served",
  ignore,
}, async () => {
  await using server = await serve({
    port: 0,
    log: () => {},
    http: { port: 0, maxConnectionsPerPeer: 1 },
  });
  const port = server.http!.port;
  await using held = await HttpSocket.connect(port);
  await held.send("GET /api/keys HTTP/1.1\r\nHost: x\r\n\r\n");
  assertEquals((await held.answer()).status, 200);
  assertEquals((await rawHttp(port, getRequest("/api/keys"))).text, "");
  const other = await rawHttp(port, getRequest("/api/keys"), "127.0.0.2");
  assertEquals(statusOf(other.text), 200);
});
