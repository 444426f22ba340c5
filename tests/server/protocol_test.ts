import { assert, assertEquals } from "@std/assert";
import { serve } from "../../src/server/mod.ts";
import {
  type PointBatch,
  type Series,
  type Storage,
  StorageRefusal,
  type StoredPoint,
} from "../../src/server/mod.ts";
import { MemoryStore } from "../../src/server/storage/memory.ts";
import { exchange, RawSocket } from "../helpers/server.ts";
import { play, PROTOCOL_CASES } from "../helpers/protocol_cases.ts";
import { assertSameLines } from "../helpers/same_lines.ts";

const OK = "ok\n\n";
const ERROR = "error\nwrong command\n\n";

/** A server on a free port that keeps quiet. */
function quietServer(options: Parameters<typeof serve>[0] = {}) {
  return serve({ port: 0, log: () => {}, ...options });
}

Deno.test("protocol cases: the embedded server answers each exactly", async (t) => {
  // The same table runs against VictoriaMetrics in tests/server/storage/victoriametrics/.
  for (const protocolCase of PROTOCOL_CASES) {
    await t.step(protocolCase.name, async () => {
      await using server = await quietServer();
      await play(server.port, protocolCase, "first-seen");
    });
  }
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
  assertEquals(answers[answers.length - 1], answer("p", 3000));
});

/** The answer to `get key` after `put key i i` for each `i` below `count`. */
function answer(key: string, count: number): string {
  const lines = Array.from({ length: count }, (_, i) => `${key} ${i}.0 ${i}\n`);
  return `ok\n${lines.join("")}\n`;
}

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
  // Every client's first put is of shared.0 and each goes 0, 1, 2: keys
  // come in that order, each key's points by second.
  const expected = ["ok"];
  for (let key = 0; key < 3; key++) {
    for (let i = key; i < perClient; i += 3) {
      for (let c = 0; c < clients; c++) {
        expected.push(`shared.${key} ${c}.0 ${i * clients + c}`);
      }
    }
  }
  expected.push("", "");
  const all = await exchange(server.port, "get *\n", 1);
  assertSameLines(all.split("\n"), expected, "get *");
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

/**
 * A backend that takes points only as objects, keeps each batch as it was
 * handed over, and stores them all only when told.
 */
class KeepingStore implements Storage {
  readonly memory = new MemoryStore();
  readonly kept: (readonly StoredPoint[])[] = [];
  put(points: readonly StoredPoint[]): void {
    this.kept.push(points);
  }
  get(key: string): Series | undefined {
    return this.memory.get(key);
  }
  getAll(): Iterable<Series> {
    return this.memory.getAll();
  }
  close(): void {}
}

Deno.test("a storage without putColumns gets points it may keep after the call", async () => {
  const storage = new KeepingStore();
  await using server = await quietServer({ storage });
  // More puts than one batch holds, in one write: batches follow each
  // other while the first are still kept.
  const puts = Array.from({ length: 10_000 }, (_, i) => ({
    key: `k${i % 7}`,
    timestamp: i,
    value: i / 4,
  }));
  const lines = puts.map((p) => `put ${p.key} ${p.value} ${p.timestamp}\n`);
  await using socket = await RawSocket.connect(server.port);
  await socket.send(lines.join(""));
  await socket.responses(puts.length);
  assert(storage.kept.length > 1, `${storage.kept.length} batch`);
  assertEquals(storage.kept.flat(), puts);
  for (const batch of storage.kept) storage.memory.put(batch);
  const got = await exchange(server.port, "get k3\n", 1);
  assertEquals(
    got.split("\n").filter((line) => line.startsWith("k3 ")).length,
    puts.filter((p) => p.key === "k3").length,
  );
});

/** A backend that takes columns and copies them, as a built-in store does. */
class ColumnStore extends MemoryStore {
  readonly copies: StoredPoint[] = [];
  override put(): void {
    throw new Error("put called though putColumns is offered");
  }
  override putColumns(batch: PointBatch): void {
    for (let i = 0; i < batch.length; i++) {
      this.copies.push({
        key: batch.keys[i],
        timestamp: batch.timestamps[i],
        value: batch.values[i],
      });
    }
    super.putColumns(batch);
  }
}

Deno.test("a storage with putColumns gets every put in columns, in order", async () => {
  const storage = new ColumnStore();
  await using server = await quietServer({ storage });
  const lines = Array.from(
    { length: 10_000 },
    (_, i) => `put k${i % 3} ${i}.5 ${i}\n`,
  );
  // A put whose key is new takes the text path; it joins the same columns.
  lines.splice(5_000, 0, "put ключ -1 7\n");
  await using socket = await RawSocket.connect(server.port);
  await socket.send(lines.join(""));
  await socket.responses(lines.length);
  assertEquals(
    storage.copies.map((p) => `put ${p.key} ${p.value} ${p.timestamp}\n`),
    lines,
  );
  assertEquals(
    await exchange(server.port, "get ключ\n", 1),
    "ok\nключ -1.0 7\n\n",
  );
});

/** A backend whose puts fail, in objects or in columns. */
class FailingStore extends MemoryStore {
  override put(): void {
    throw new Error("disk on fire");
  }
  override putColumns(): void {
    this.put();
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

/** A backend that cannot store negative values. */
class NonNegativeStore extends MemoryStore {
  readonly batches: number[] = [];
  override refusal(point: StoredPoint): string | undefined {
    return point.value < 0 ? "no negative values here" : undefined;
  }
  override putColumns(batch: PointBatch): void {
    this.batches.push(batch.length);
    super.putColumns(batch);
  }
}

const REFUSED = "error\nno negative values here\n\n";

Deno.test("a put the storage refuses is answered error in order; the rest is stored", async () => {
  const storage = new NonNegativeStore();
  const messages: string[] = [];
  await using server = await serve({
    port: 0,
    storage,
    log: (message) => messages.push(message),
  });
  assertEquals(
    await exchange(
      server.port,
      "put k 1 1\nput k -1 2\nput k -2 3\nput k 4 4\nget k\n",
      5,
    ),
    OK + REFUSED + REFUSED + OK + "ok\nk 1.0 1\nk 4.0 4\n\n",
  );
  assertEquals(storage.batches, [2]);
  // One line per connection, however many puts it refuses.
  assertEquals(messages.length, 1);
  assertEquals(messages[0].includes("no negative values here"), true);
});

Deno.test("a multi-byte key split across TCP reads comes back whole", async () => {
  await using server = await quietServer();
  await using socket = await RawSocket.connect(server.port);
  // Enough points that the answer spans many reads, splitting "ключ"
  // somewhere for the reader.
  const puts = Array.from({ length: 20_000 }, (_, i) => `put ключ ${i} ${i}\n`);
  await socket.send(puts.join(""));
  await socket.responses(puts.length);
  await socket.send("get ключ\n");
  const [got] = await socket.responses(1);
  assertSameLines(got.split("\n"), answer("ключ", 20_000).split("\n"));
});

/** A backend whose puts settle only when the test says so. */
class GatedStore implements Storage {
  readonly memory = new MemoryStore();
  /** One per put, in arrival order: settles it (with a refusal or an error). */
  readonly gates: ((outcome?: string | Error) => void)[] = [];
  /** Points handed over so far. */
  points = 0;
  #arrived: (() => void) | undefined;
  #open = false;

  /** @param pendingPoints What the server may hand over unanswered. */
  constructor(readonly pendingPoints?: number) {}

  /** Settles every put waiting now, and from now on each as it comes. */
  openAll(): void {
    this.#open = true;
    for (const gate of this.gates) gate();
  }

  put(points: readonly StoredPoint[]): Promise<void> {
    this.points += points.length;
    if (this.#open) {
      this.memory.put(points);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.gates.push((outcome) => {
        if (outcome instanceof Error) reject(outcome);
        else if (outcome !== undefined) reject(new StorageRefusal(outcome));
        else {
          this.memory.put(points);
          resolve();
        }
      });
      this.#arrived?.();
    });
  }

  /** Resolves once `count` puts arrived; throws after 5 s. */
  async arrived(count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.gates.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`${this.gates.length} puts arrived, not ${count}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#arrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  get(key: string): Series | undefined {
    return this.memory.get(key);
  }
  getAll(): Iterable<Series> {
    return this.memory.getAll();
  }
  close(): void {}
}

Deno.test("a connection reads on while its puts are stored; answers keep request order", async () => {
  const storage = new GatedStore();
  await using server = await quietServer({ storage });
  await using socket = await RawSocket.connect(server.port);
  await socket.send("put k 1 1\n");
  await storage.arrived(1);
  await socket.send("put k 2 2\n");
  // The second batch reaches storage before the first settled.
  await storage.arrived(2);
  storage.gates[1]();
  storage.gates[0]("first refused");
  assertEquals(await socket.responses(2), ["error\nfirst refused\n\n", OK]);
  await socket.send("get k\n");
  assertEquals(await socket.responses(1), ["ok\nk 2.0 2\n\n"]);
});

Deno.test("a get waits for the puts before it on its connection", async () => {
  const storage = new GatedStore();
  await using server = await quietServer({ storage });
  await using socket = await RawSocket.connect(server.port);
  await socket.send("put k 1 1\n");
  await storage.arrived(1);
  await socket.send("get k\n");
  await new Promise((resolve) => setTimeout(resolve, 50));
  storage.gates[0]();
  assertEquals(await socket.responses(2), [OK, "ok\nk 1.0 1\n\n"]);
});

Deno.test("a failed batch closes the connection unanswered, later stored batches too", async () => {
  const storage = new GatedStore();
  await using server = await quietServer({ storage });
  await using socket = await RawSocket.connect(server.port);
  await socket.send("put k 1 1\n");
  await storage.arrived(1);
  await socket.send("put k 2 2\n");
  await storage.arrived(2);
  storage.gates[1]();
  storage.gates[0](new Error("disk on fire"));
  assertEquals(await socket.rest(), "");
});

/**
 * Sends `total` pipelined puts to a server over `storage`, and checks that
 * the storage is handed up to `max` points (within a batch) before any
 * settles; then that every put is answered `ok` and reads back.
 */
async function handsOverUpTo(
  storage: GatedStore,
  max: number,
  total: number,
): Promise<void> {
  await using server = await quietServer({ storage });
  await using socket = await RawSocket.connect(server.port);
  const puts = Array.from(
    { length: total },
    (_, i) => `put k${i % 10} ${i} ${i}\n`,
  );
  // Not awaited: the server stops reading once its pending points are full.
  const sending = socket.send(puts.join(""));
  const deadline = Date.now() + 10_000;
  while (storage.points <= max - 4096 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const handed = storage.points;
  storage.openAll();
  // A batch (at most 4,096 puts) that would pass the budget waits.
  assert(
    handed > max - 4096 && handed <= max,
    `${handed} points handed over, not up to ${max}`,
  );
  // Read while sending: unread answers would stop the server's reading.
  const [answers] = await Promise.all([socket.responses(total), sending]);
  assertEquals(answers.filter((answer) => answer !== OK), []);
  assertEquals(storage.points, total);
  await socket.send("get k7\n");
  const [got] = await socket.responses(1);
  assertEquals(got.split("\n").length, total / 10 + 3);
  assert(got.endsWith(`k7 ${total - 3}.0 ${total - 3}\n\n`), got.slice(-40));
}

Deno.test("a server hands storage at most 65,536 unanswered points by default", async () => {
  await handsOverUpTo(new GatedStore(), 65_536, 100_000);
});

Deno.test("a storage's pendingPoints sets how many unanswered points it is handed", async () => {
  await handsOverUpTo(new GatedStore(150_000), 150_000, 200_000);
});
