import { assertEquals } from "@std/assert";
import { serve } from "../../src/server/mod.ts";
import type { Series, Storage, StoredPoint } from "../../src/server/mod.ts";
import { MemoryStore } from "../../src/server/memory_store.ts";
import { exchange, RawSocket } from "./helpers.ts";

const OK = "ok\n\n";
const ERROR = "error\nwrong command\n\n";

/** A server on a free port that keeps quiet. */
function quietServer(options: Parameters<typeof serve>[0] = {}) {
  return serve({ port: 0, log: () => {}, ...options });
}

Deno.test("the assignment's telnet session gets the exact answers", async () => {
  await using server = await quietServer();
  await using socket = await RawSocket.connect(server.port);
  const session: [string, string][] = [
    ["get test_key\n", OK],
    ["got test_key\n", ERROR],
    ["put test_key 12.0 1503319740\n", OK],
    ["put test_key 13.0 1503319739\n", OK],
    [
      "get test_key\n",
      "ok\ntest_key 13.0 1503319739\ntest_key 12.0 1503319740\n\n",
    ],
    ["put another_key 10 1503319739\n", OK],
    [
      "get *\n",
      "ok\ntest_key 13.0 1503319739\ntest_key 12.0 1503319740\nanother_key 10.0 1503319739\n\n",
    ],
  ];
  for (const [request, response] of session) {
    await socket.send(request);
    assertEquals(await socket.responses(1), [response], request);
  }
});

Deno.test("get of an unknown key answers ok and no data", async () => {
  await using server = await quietServer();
  assertEquals(await exchange(server.port, "get nothing.here\n", 1), OK);
});

Deno.test("get * of an empty server answers ok and no data", async () => {
  await using server = await quietServer();
  assertEquals(await exchange(server.port, "get *\n", 1), OK);
});

Deno.test("put keeps the last write per key and second", async () => {
  await using server = await quietServer();
  const answers = await exchange(
    server.port,
    "put palm.cpu 0.5 1150864247\nput palm.cpu 2.0 1150864248\nput palm.cpu 0.5 1150864248\nget palm.cpu\n",
    4,
  );
  assertEquals(
    answers,
    OK.repeat(3) +
      "ok\npalm.cpu 0.5 1150864247\npalm.cpu 0.5 1150864248\n\n",
  );
});

Deno.test("get * lists keys in first-seen order, each sorted by timestamp", async () => {
  await using server = await quietServer();
  const answers = await exchange(
    server.port,
    "put b 1 30\nput a 1 20\nput b 2 10\nput c 3 5\nput a 4 10\nget *\n",
    6,
  );
  assertEquals(
    answers.slice(OK.length * 5),
    "ok\nb 2.0 10\nb 1.0 30\na 4.0 10\na 1.0 20\nc 3.0 5\n\n",
  );
});

Deno.test("values print as 12.0, 2.156, 0.5 on the wire", async () => {
  await using server = await quietServer();
  const answers = await exchange(
    server.port,
    "put v 12 1\nput v 2.156 2\nput v .5 3\nput v 1e2 4\nget v\n",
    5,
  );
  assertEquals(
    answers.slice(OK.length * 4),
    "ok\nv 12.0 1\nv 2.156 2\nv 0.5 3\nv 100.0 4\n\n",
  );
});

Deno.test("requests typed by humans: spaces, several spaces, \\r\\n", async () => {
  await using server = await quietServer();
  const answers = await exchange(
    server.port,
    "  put k   1.5  7 \r\n\tget   k\r\n",
    2,
  );
  assertEquals(answers, OK + "ok\nk 1.5 7\n\n");
});

Deno.test("blank lines get no answer: get x followed by an empty line gets one", async () => {
  await using server = await quietServer();
  await using socket = await RawSocket.connect(server.port);
  await socket.send("get x\n\n\r\n   \nget y\n\n");
  await socket.send("put z 1 1\n");
  // Were a blank line answered, the third response would not be put's ok.
  assertEquals(await socket.responses(3), [OK, OK, OK]);
  await socket.send("get z\n");
  assertEquals(await socket.responses(1), ["ok\nz 1.0 1\n\n"]);
});

Deno.test("every malformed request gets the error and the connection keeps working", async (t) => {
  await using server = await quietServer();
  await using socket = await RawSocket.connect(server.port);
  for (
    const request of [
      "got test_key",
      "GET test_key",
      "get",
      "get a b",
      "put k 1",
      "put k 1 2 3",
      "put k 0,5 1",
      "put k abc 1",
      "put k nan 1",
      "put k 1 1.5",
      "put * 1 1",
      "hello",
    ]
  ) {
    await t.step(request, async () => {
      await socket.send(`${request}\nget k\n`);
      assertEquals(await socket.responses(2), [ERROR, OK]);
    });
  }
});

Deno.test("bytes that are not UTF-8 get the error and the connection keeps working", async () => {
  await using server = await quietServer();
  await using socket = await RawSocket.connect(server.port);
  await socket.send(
    new Uint8Array([
      ...new TextEncoder().encode("put k"),
      0xc3,
      0x28,
      0x20,
      0x31,
      0x20,
      0x31,
      0x0a,
    ]),
  );
  await socket.send("put k 1 1\nget k\n");
  assertEquals(await socket.responses(3), [ERROR, OK, "ok\nk 1.0 1\n\n"]);
});

Deno.test("a request split into one-byte packets is answered once", async () => {
  await using server = await quietServer();
  await using socket = await RawSocket.connect(server.port);
  for (const char of "put split.key 2.5 100\nget split.key\n") {
    await socket.send(char);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assertEquals(await socket.responses(2), [OK, "ok\nsplit.key 2.5 100\n\n"]);
});

Deno.test("pipelined requests merged in one write are answered in order", async () => {
  await using server = await quietServer();
  await using socket = await RawSocket.connect(server.port);
  let requests = "";
  const expected: string[] = [];
  for (let i = 0; i < 3000; i++) {
    requests += `put p ${i} ${i}\n`;
    expected.push(OK);
    if (i % 1000 === 999) {
      requests += "get nope\nbad request\n";
      expected.push(OK, ERROR);
    }
  }
  requests += "get p\n";
  await socket.send(requests);
  const answers = await socket.responses(expected.length + 1);
  assertEquals(answers.slice(0, -1), expected);
  const lines = answers[answers.length - 1].split("\n");
  assertEquals(lines.length, 3000 + 3);
  assertEquals(lines[3000], "p 2999.0 2999");
});

Deno.test("several clients writing the same keys at once lose no point", async () => {
  await using server = await quietServer();
  const clients = 8;
  const perClient = 500;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let requests = "";
      for (let i = 0; i < perClient; i++) {
        requests += `put shared.${i % 3} ${c} ${i * clients + c}\n`;
      }
      assertEquals(
        await exchange(server.port, requests, perClient),
        OK.repeat(perClient),
      );
    }),
  );
  const all = await exchange(server.port, "get *\n", 1);
  const lines = all.split("\n").slice(1, -2);
  assertEquals(lines.length, clients * perClient);
  for (const line of lines) {
    const [key, value, timestamp] = line.split(" ");
    assertEquals(Number(value), Number(timestamp) % clients, line);
    assertEquals(key, `shared.${Math.floor(Number(timestamp) / clients) % 3}`);
  }
});

Deno.test("a get after a put in the same packet sees the put", async () => {
  await using server = await quietServer();
  assertEquals(
    await exchange(server.port, "put k 1 1\nget k\nput k 2 1\nget k\n", 4),
    OK + "ok\nk 1.0 1\n\n" + OK + "ok\nk 2.0 1\n\n",
  );
});

/** A backend that takes `delayMs` to store each batch. */
class SlowStore implements Storage {
  readonly memory = new MemoryStore();
  readonly batches: number[] = [];
  constructor(readonly delayMs: number) {}
  async put(points: readonly StoredPoint[]): Promise<void> {
    this.batches.push(points.length);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.memory.put(points);
  }
  get(key: string): Promise<Series | undefined> {
    return Promise.resolve(this.memory.get(key));
  }
  getAll(): Promise<Iterable<Series>> {
    return Promise.resolve(this.memory.getAll());
  }
  close(): void {}
}

Deno.test("an async storage backend gets batches and answers stay in order", async () => {
  const storage = new SlowStore(20);
  await using server = await quietServer({ storage });
  assertEquals(
    await exchange(server.port, "put k 1 1\nput k 2 2\nget k\nput k 3 3\n", 4),
    OK + OK + "ok\nk 1.0 1\nk 2.0 2\n\n" + OK,
  );
  assertEquals(storage.batches, [2, 1]);
});

/** A backend whose puts fail. */
class FailingStore extends MemoryStore {
  override put(): void {
    throw new Error("disk on fire");
  }
}

Deno.test("a failing storage closes that connection unanswered, the server stays up", async () => {
  const messages: string[] = [];
  await using server = await serve({
    port: 0,
    storage: new FailingStore(),
    log: (message) => messages.push(message),
  });
  await using socket = await RawSocket.connect(server.port);
  await socket.send("put k 1 1\n");
  assertEquals(await socket.rest(), "");
  assertEquals(messages.some((m) => m.includes("disk on fire")), true);
  assertEquals(await exchange(server.port, "get k\n", 1), OK);
});
