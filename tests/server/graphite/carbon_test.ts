/**
 * The carbon plaintext port (`graphite` option, `--graphite`) over real
 * sockets: what it stores, what it counts and logs, and that no input
 * stops it or slows the other connections.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { Client } from "../../../mod.ts";
import { type MetricsServer, serve } from "../../../src/server/mod.ts";
import { certs, needsOpenssl } from "../../helpers/certs.ts";

const encoder = new TextEncoder();

/** Opens a connection to the carbon port. */
function carbon(server: MetricsServer): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port: server.graphite!.port });
}

async function write(
  conn: Deno.Conn,
  data: string | Uint8Array,
): Promise<void> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at));
  }
}

/** Polls `get key` on the protocol port until it holds `count` points. */
async function points(
  client: Client,
  key: string,
  count: number,
): Promise<[number, number][]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const got = (await client.get(key))[key] ?? [];
    if (got.length >= count || Date.now() > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The value of one sample line of `/metrics`. */
async function metric(server: MetricsServer, sample: string): Promise<number> {
  const text = await fetch(`${server.http!.url}metrics`).then((r) => r.text());
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return Number(line?.split(" ")[1]);
}

async function start(
  options: Parameters<typeof serve>[0] = {},
): Promise<{ server: MetricsServer; client: Client; logs: string[] }> {
  const logs: string[] = [];
  const server = await serve({
    port: 0,
    graphite: { port: 0 },
    http: { port: 0 },
    log: (line) => logs.push(line),
    ...options,
  });
  const client = new Client("127.0.0.1", server.port, { timeout: 10 });
  return { server, client, logs };
}

Deno.test("carbon lines are stored as carbon reads them, and get sees them", async () => {
  const { server, client } = await start();
  await using _ = server;
  await using __ = client;
  const conn = await carbon(server);
  await write(
    conn,
    "web1.load.shortterm 0.25 1700000000\r\n" +
      "web1.load.shortterm\t\t0.5   1700000001.0\n" +
      "  web1.load.shortterm 1e1 1700000002.9  \n" +
      "web1.load.shortterm 2 1700000002\n",
  );
  conn.close();
  assertEquals(await points(client, "web1.load.shortterm", 3), [
    [1700000000, 0.25],
    [1700000001, 0.5],
    [1700000002, 2],
  ]);
});

Deno.test("a timestamp of -1 is stored at the time it arrives, as carbon does", async () => {
  const { server, client } = await start();
  await using _ = server;
  await using __ = client;
  const conn = await carbon(server);
  const before = Math.floor(Date.now() / 1000);
  await write(conn, "now.key 7 -1\n");
  conn.close();
  const [[time, value]] = await points(client, "now.key", 1);
  assertEquals(value, 7);
  assert(time >= before && time <= Math.floor(Date.now() / 1000), `${time}`);
});

Deno.test("tagged names are stored with their tags sorted", async () => {
  const { server, client } = await start();
  await using _ = server;
  await using __ = client;
  const conn = await carbon(server);
  await write(
    conn,
    "disk.used;host=web1;dc=ams 5 100\ndisk.used;dc=ams;host=web1 6 101\n",
  );
  conn.close();
  assertEquals(await points(client, "disk.used;dc=ams;host=web1", 2), [
    [100, 5],
    [101, 6],
  ]);
});

Deno.test("a bad line is counted and logged once a minute, and the connection goes on", async () => {
  const { server, client, logs } = await start();
  await using _ = server;
  await using __ = client;
  const conn = await carbon(server);
  await write(
    conn,
    "only two\nk 1 2 3\nk x 5\nk 1 then\nk 1 nan\nk inf 5\n",
  );
  await write(conn, Uint8Array.of(0xff, 0xfe, 0x20, 0x31, 0x20, 0x32, 0x0a));
  await write(conn, "ok.key 1 100\n");
  assertEquals(await points(client, "ok.key", 1), [[100, 1]]);
  await write(conn, "again bad\nok.key 2 101\n");
  assertEquals(await points(client, "ok.key", 2), [[100, 1], [101, 2]]);
  conn.close();
  assertEquals(
    await metric(server, 'metrics_graphite_lines_total{result="invalid"}'),
    8,
  );
  assertEquals(
    await metric(server, 'metrics_graphite_lines_total{result="stored"}'),
    2,
  );
  const lines = logs.filter((line) => line.includes("ignored a carbon line"));
  assertEquals(lines.length, 1, logs.join("\n"));
  assertStringIncludes(lines[0], '"only two"');
});

Deno.test("nan values are skipped without a word, and counted", async () => {
  const { server, client, logs } = await start();
  await using _ = server;
  await using __ = client;
  const conn = await carbon(server);
  await write(
    conn,
    "n.key nan 100\nn.key NaN 101\nn.key -nan 102\nn.key 3 103\n",
  );
  conn.close();
  assertEquals(await points(client, "n.key", 1), [[103, 3]]);
  assertEquals(
    await metric(server, 'metrics_graphite_lines_total{result="nan"}'),
    3,
  );
  assertEquals(logs.filter((l) => l.includes("carbon line")), []);
});

Deno.test("a line past maxLineBytes closes that connection only", async () => {
  const { server, client } = await start({ maxLineBytes: 1024 });
  await using _ = server;
  await using __ = client;
  const huge = await carbon(server);
  const other = await carbon(server);
  await write(huge, `big.key ${"9".repeat(100_000)}`);
  // The server closes it: the read ends (EOF or a reset).
  const buf = new Uint8Array(16);
  const end = await huge.read(buf).catch(() => null);
  assertEquals(end, null);
  huge.close();
  await write(other, "after.huge 1 100\n");
  other.close();
  assertEquals(await points(client, "after.huge", 1), [[100, 1]]);
  assertEquals(
    await metric(server, 'metrics_errors_total{kind="too_long"}'),
    1,
  );
});

Deno.test("binary garbage is counted as bad lines, and later lines are stored", async () => {
  const { server, client } = await start();
  await using _ = server;
  await using __ = client;
  const conn = await carbon(server);
  const garbage = new Uint8Array(200_000);
  let seed = 7;
  for (let i = 0; i < garbage.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    garbage[i] = seed >>> 24;
  }
  await write(conn, garbage);
  await write(conn, "\nafter.garbage 4 100\n");
  conn.close();
  assertEquals(await points(client, "after.garbage", 1), [[100, 4]]);
  assert(
    await metric(server, 'metrics_graphite_lines_total{result="invalid"}') > 0,
  );
});

Deno.test("a slow sender holds only its own connection, and the idle timeout closes a silent one", async () => {
  const { server, client } = await start({ idleTimeout: 1 });
  await using _ = server;
  await using __ = client;
  const slow = await carbon(server);
  const silent = await carbon(server);
  // A slowloris: one byte of an endless line every 20 ms.
  let dripping = true;
  const drip = (async () => {
    while (dripping) {
      await slow.write(encoder.encode("x")).catch(() => (dripping = false));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const other = await carbon(server);
  await write(other, "beside.slow 1 100\n");
  assertEquals(await points(client, "beside.slow", 1), [[100, 1]]);
  // The silent peer is closed after about a second of waiting.
  const end = await silent.read(new Uint8Array(8)).catch(() => null);
  assertEquals(end, null);
  dripping = false;
  await drip;
  for (const conn of [slow, silent, other]) conn.close();
});

Deno.test("a flood on one connection does not stop another's lines", async () => {
  const { server, client } = await start();
  await using _ = server;
  await using __ = client;
  const flood = await carbon(server);
  let text = "";
  for (let i = 0; i < 200_000; i++) text += `flood.k${i % 1000} ${i} ${i}\n`;
  const flooding = write(flood, text);
  const other = await carbon(server);
  await write(other, "beside.flood 1 100\n");
  assertEquals(await points(client, "beside.flood", 1), [[100, 1]]);
  await flooding;
  flood.close();
  other.close();
  assertEquals((await points(client, "flood.k999", 200)).length, 200);
});

Deno.test("the carbon port counts against the protocol port's connection cap", async () => {
  const { server, client } = await start({ maxConnections: 1 });
  await using _ = server;
  await using __ = client;
  await client.get("holds.the.slot");
  const conn = await carbon(server);
  const end = await conn.read(new Uint8Array(8)).catch(() => null);
  assertEquals(end, null);
  conn.close();
  assertEquals(
    await metric(
      server,
      'metrics_connections_refused_total{reason="max_connections"}',
    ),
    1,
  );
});

Deno.test("the carbon port shares the allow-list", async () => {
  await using server = await serve({
    port: 0,
    graphite: { port: 0 },
    allowFrom: ["10.0.0.0/8"],
    log: () => {},
  });
  const conn = await carbon(server);
  const end = await conn.read(new Uint8Array(8)).catch(() => null);
  assertEquals(end, null);
  conn.close();
  assertEquals(server.accessStats().refusedPeers, 1);
});

Deno.test("points the storage refuses are counted, not answered", async () => {
  const { server, client, logs } = await start({ maxKeys: 1 });
  await using _ = server;
  await using __ = client;
  const conn = await carbon(server);
  // The caps are checked per read, as on the protocol port: one at a time.
  await write(conn, "first.key 1 100\n");
  await points(client, "first.key", 1);
  await write(conn, "second.key 2 100\nfirst.key 3 101\n");
  assertEquals(await points(client, "first.key", 2), [[100, 1], [101, 3]]);
  conn.close();
  assertEquals(
    await metric(server, 'metrics_graphite_lines_total{result="refused"}'),
    1,
  );
  assert(logs.some((line) => line.includes("too many keys")), logs.join("\n"));
});

Deno.test("refused lines are logged once a minute per address, however many connections send them", async () => {
  const { server, client, logs } = await start({ retention: 3600 });
  await using _ = server;
  await using __ = client;
  for (let i = 0; i < 5; i++) {
    const conn = await carbon(server);
    await write(conn, `old.key ${i} 100\n`);
    conn.close();
  }
  const deadline = Date.now() + 10_000;
  const refused = 'metrics_graphite_lines_total{result="refused"}';
  while ((await metric(server, refused)) < 5 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assertEquals(await metric(server, refused), 5);
  assertEquals((await client.get("old.key"))["old.key"] ?? [], []);
  const logged = logs.filter((line) => line.includes("older than retention"));
  assertEquals(logged.length, 1, logs.join("\n"));
});

Deno.test({
  name: "with tls the carbon port speaks TLS",
  ...needsOpenssl,
  fn: async () => {
    const { server: pair, ca } = await certs();
    await using server = await serve({
      port: 0,
      graphite: { port: 0 },
      tls: pair,
      plainPort: 0,
      log: () => {},
    });
    await using client = new Client("127.0.0.1", server.plainPort!, {
      timeout: 10,
    });
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: server.graphite!.port,
      caCerts: [ca],
    });
    await write(conn, "tls.key 1 100\n");
    conn.close();
    assertEquals(await points(client, "tls.key", 1), [[100, 1]]);
    // A plain-TCP carbon client gets no further than the handshake.
    const plain = await carbon(server);
    await write(plain, "plain.key 1 100\n");
    await plain.read(new Uint8Array(64)).catch(() => null);
    plain.close();
    assertEquals((await client.get("plain.key"))["plain.key"], undefined);
    assertEquals(server.accessStats().tlsHandshakeFailures, 1);
  },
});
