import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { Client } from "../../mod.ts";
import { StubServer } from "../helpers/stub_server.ts";

const host = "127.0.0.1";

Deno.test("put writes the exact request and resolves on ok", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put palm.cpu 0.5 1150864247\n");
    await conn.send("ok\n\n");
    await conn.expectEnd();
  });
  const client = new Client(host, server.port, { timeout: 5 });
  assertStrictEquals(
    await client.put("palm.cpu", 0.5, { timestamp: 1150864247 }),
    undefined,
  );
  await client.close();
  await server.finish();
});

Deno.test("put without a timestamp sends the current Unix second", async () => {
  let line = "";
  await using server = new StubServer(async (conn) => {
    line = (await conn.readLine())!;
    await conn.send("ok\n\n");
  });
  await using client = new Client(host, server.port);
  const before = Math.floor(Date.now() / 1000);
  await client.put("palm.cpu", 2.0);
  const after = Math.floor(Date.now() / 1000);
  const [command, key, value, ts] = line.split(" ");
  assertEquals([command, key, value], ["put", "palm.cpu", "2.0"]);
  assert(+ts >= before && +ts <= after, line);
});

Deno.test("the default timestamp is taken when put is called, not when written", async () => {
  const lines: string[] = [];
  await using server = new StubServer((conn) =>
    conn.respond((line) => (lines.push(line), "ok\n\n"))
  );
  const realNow = Date.now;
  await using client = new Client(host, server.port);
  try {
    Date.now = () => 1_000_000;
    const first = client.put("k", 1);
    const second = client.put("k", 2); // queued behind the first
    Date.now = () => 9_000_000;
    await Promise.all([first, second]);
  } finally {
    Date.now = realNow;
  }
  assertEquals(lines, ["put k 1.0 1000", "put k 2.0 1000"]);
});

Deno.test("get parses the docs/protocol.md example", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get palm.cpu\n");
    await conn.send(
      "ok\npalm.cpu 0.5 1150864247\npalm.cpu 0.5 1150864248\n\n",
    );
    await conn.expect("get *\n");
    await conn.send(
      "ok\npalm.cpu 0.5 1150864247\npalm.cpu 0.5 1150864248\n" +
        "eardrum.cpu 3.0 1150864250\neardrum.cpu 4.0 1150864251\n" +
        "eardrum.memory 4200000.0 1503320872\n\n",
    );
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  assertEquals({ ...await client.get("palm.cpu") }, {
    "palm.cpu": [[1150864247, 0.5], [1150864248, 0.5]],
  });
  assertEquals({ ...await client.get("*") }, {
    "palm.cpu": [[1150864247, 0.5], [1150864248, 0.5]],
    "eardrum.cpu": [[1150864250, 3.0], [1150864251, 4.0]],
    "eardrum.memory": [[1503320872, 4200000.0]],
  });
});

Deno.test("get of an unknown key gives an empty object", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get nothing.here\n");
    await conn.send("ok\n\n");
  });
  await using client = new Client(host, server.port);
  const metrics = await client.get("nothing.here");
  assertEquals(Object.keys(metrics), []);
  assertStrictEquals(Object.getPrototypeOf(metrics), null);
});

Deno.test("a metric named __proto__ is plain data", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put __proto__ 1.0 10\n");
    await conn.send("ok\n\n");
    await conn.expect("get __proto__\n");
    await conn.send("ok\n__proto__ 1.0 10\n\n");
  });
  await using client = new Client(host, server.port);
  await client.put("__proto__", 1, { timestamp: 10 });
  const metrics = await client.get("__proto__");
  assertEquals(Object.keys(metrics), ["__proto__"]);
  assertEquals(metrics["__proto__"], [[10, 1]]);
  assertStrictEquals(Object.getPrototypeOf(metrics), null);
});

Deno.test("a response split at every byte is read whole", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get palm.cpu\n");
    await conn.sendSplit(
      "ok\npalm.cpu 2.0 1150864247\npalm.cpu 0.5 1150864248\n\n",
    );
    await conn.expect("put palm.cpu 1.0 1\n");
    await conn.sendSplit("ok\n\n");
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  assertEquals({ ...await client.get("palm.cpu") }, {
    "palm.cpu": [[1150864247, 2], [1150864248, 0.5]],
  });
  await client.put("palm.cpu", 1, { timestamp: 1 });
});

Deno.test("responses merged in one packet are matched in order", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put a 1.0 1\nget a\nput b 2.0 2\nget b\n");
    await conn.send("ok\n\nok\na 1.0 1\n\nok\n\nok\nb 2.0 2\n\n");
  });
  await using client = new Client(host, server.port, { maxInFlight: 4 });
  const [p1, a, p2, b] = await Promise.all([
    client.put("a", 1, { timestamp: 1 }),
    client.get("a"),
    client.put("b", 2, { timestamp: 2 }),
    client.get("b"),
  ]);
  assertEquals([p1, p2], [undefined, undefined]);
  assertEquals(a["a"], [[1, 1]]);
  assertEquals(b["b"], [[2, 2]]);
});

Deno.test("with maxInFlight 1 each request waits for the previous answer", async () => {
  await using server = new StubServer(async (conn) => {
    for (let i = 0; i < 3; i++) {
      await conn.expect(`put k ${i}.0 ${i}\n`);
      // Nothing more may arrive before this answer: the next expect
      // would see it merged otherwise.
      await conn.send("ok\n\n");
    }
  });
  await using client = new Client(host, server.port);
  await Promise.all([0, 1, 2].map((i) => client.put("k", i, { timestamp: i })));
  assertEquals(server.conns[0].maxLinesPerRead, 1);
});

Deno.test("a server error rejects the call and the connection keeps working", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put k 1.0 1\n");
    await conn.send("error\nwrong command\n\n");
    await conn.expect("put k 2.0 2\n");
    await conn.send("ok\n\n");
  });
  await using client = new Client(host, server.port);
  const error = await client.put("k", 1, { timestamp: 1 }).catch((e) => e);
  assertEquals([error.name, error.kind], ["ClientError", "server_error"]);
  assert(error.message.includes("wrong command"), error.message);
  await client.put("k", 2, { timestamp: 2 });
  assertEquals(server.accepted, 1);
});
