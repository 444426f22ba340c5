/**
 * Many one-point keys through a real server and one pipelined connection:
 * stored, some grown a second point (freeing their one-point slots), new
 * ones stored into the freed slots and past them, then every key read back
 * by `get` and by `get *`, in memory and with `dataDir` (after a restart,
 * and after every point was rewritten and the server restarted). What each
 * key must hold is computed from its number, not read from the store.
 *
 * 200,000 keys by default (past the 88,573rd, where the one-point column
 * once lost points); `MODEL_LONG=1` stores 1,000,000.
 */

import { assertEquals, assertMatch } from "@std/assert";
import { type MetricsServer, serve } from "../../../src/server/mod.ts";
import { tempDir } from "../../helpers/server.ts";

const KEYS = Deno.env.get("MODEL_LONG") === "1" ? 1_000_000 : 200_000;
/** Every tenth key grows a second point: before or after its first. */
const GROWN = (i: number) => i % 10 === 3;
/** New one-point keys after the growth: the freed slots, and half as many again. */
const REFILL = Math.round(KEYS * 0.15);
const T0 = 1796173880;
/** Requests written per chunk. */
const CHUNK = 20_000;

const key = (i: number) => `many.grp${i % 200}.key${i}`;

/** What the keys hold: `round` counts the rewrites each point went through. */
class Expected {
  /** Keys stored: `key(0)` to `key(count - 1)`. */
  count = 0;
  grown = false;
  /** Rewrite rounds applied to all points, and to the first points of keys below `extraBelow`. */
  rounds = 0;
  extraBelow = 0;

  /** The points of key `i`, sorted by timestamp. */
  points(i: number): [timestamp: number, value: number][] {
    const round = this.rounds + (i < this.extraBelow ? 1 : 0);
    const first: [number, number] = [T0 + i % 7, round * 1e7 + i + 0.25];
    if (!this.grown || i >= KEYS || !GROWN(i)) return [first];
    const second: [number, number] = [
      i % 20 === 3 ? T0 - 50 : T0 + 50,
      -(this.rounds * 1e7 + i + 0.75),
    ];
    return second[0] < first[0] ? [second, first] : [first, second];
  }
}

/** One pipelined connection: writes requests while it reads the answers. */
class Pipeline implements AsyncDisposable {
  readonly #conn: Deno.TcpConn;
  readonly #decoder = new TextDecoder();
  readonly #buf = new Uint8Array(1 << 20);
  #rest = "";

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async connect(server: MetricsServer): Promise<Pipeline> {
    return new Pipeline(
      await Deno.connect({ hostname: "127.0.0.1", port: server.port }),
    );
  }

  /**
   * Sends `count` requests made by `request(n)` and reads `count` answers,
   * handing each line to `line` and each answer's end to `end`.
   */
  async run(
    count: number,
    request: (n: number) => string,
    line: (text: string) => void,
    end: () => void,
  ): Promise<void> {
    await Promise.all([
      this.#send(count, request),
      this.#read(count, line, end),
    ]);
  }

  async #send(count: number, request: (n: number) => string): Promise<void> {
    const encoder = new TextEncoder();
    for (let start = 0; start < count; start += CHUNK) {
      let text = "";
      for (let n = start; n < Math.min(count, start + CHUNK); n++) {
        text += request(n);
      }
      const bytes = encoder.encode(text);
      for (let at = 0; at < bytes.length;) {
        at += await this.#conn.write(bytes.subarray(at));
      }
    }
  }

  async #read(
    count: number,
    line: (text: string) => void,
    end: () => void,
  ): Promise<void> {
    let ended = 0;
    while (ended < count) {
      const read = await this.#conn.read(this.#buf);
      if (read === null) {
        throw new Error(`the server closed after ${ended} of ${count} answers`);
      }
      const lines = (this.#rest +
        this.#decoder.decode(this.#buf.subarray(0, read), { stream: true }))
        .split("\n");
      this.#rest = lines.pop() as string;
      for (const text of lines) {
        if (text !== "") line(text);
        else {
          end();
          ended++;
        }
      }
    }
    assertEquals(this.#rest, "", "bytes after the last answer");
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#conn.close();
    return Promise.resolve();
  }
}

/** Puts `count` points, each answered exactly `ok`. */
async function putAll(
  pipe: Pipeline,
  count: number,
  point: (n: number) => [key: string, timestamp: number, value: number],
): Promise<void> {
  let answers = 0;
  let lines = 0;
  await pipe.run(
    count,
    (n) => {
      const [k, timestamp, value] = point(n);
      return `put ${k} ${value} ${timestamp}\n`;
    },
    (text) => {
      lines++;
      if (text !== "ok") {
        throw new Error(`put ${answers} of ${count} answered ${text}`);
      }
    },
    () => answers++,
  );
  assertEquals(lines, count);
}

/** Checks a data line against the point expected of key `i`. */
function checkLine(
  text: string,
  i: number,
  expected: [number, number] | undefined,
): void {
  const [k, value, timestamp] = text.split(" ");
  if (
    expected === undefined || k !== key(i) ||
    Number(timestamp) !== expected[0] || Number(value) !== expected[1]
  ) {
    throw new Error(
      `key ${i}: got "${text}", expected ${
        expected === undefined
          ? "no more points"
          : `${key(i)} ${expected[1]} ${expected[0]}`
      }`,
    );
  }
}

/** Reads every key back by `get`, then all of them by `get *`. */
async function readBack(pipe: Pipeline, expected: Expected): Promise<void> {
  let i = 0;
  let status = true;
  let seen = 0;
  await pipe.run(
    expected.count,
    (n) => `get ${key(n)}\n`,
    (text) => {
      if (status) {
        assertEquals(text, "ok", `status of get ${key(i)}`);
        status = false;
      } else checkLine(text, i, expected.points(i)[seen++]);
    },
    () => {
      assertEquals(seen, expected.points(i).length, `points of ${key(i)}`);
      [i, seen, status] = [i + 1, 0, true];
    },
  );
  // get *: every key in first-seen order (its number), points by time.
  i = 0;
  seen = 0;
  status = true;
  await pipe.run(1, () => "get *\n", (text) => {
    if (status) {
      assertEquals(text, "ok", "status of get *");
      status = false;
      return;
    }
    const points = expected.points(i);
    if (seen === points.length) [i, seen] = [i + 1, 0];
    checkLine(text, i, expected.points(i)[seen++]);
  }, () => {});
  assertEquals(
    [i + 1, seen],
    [expected.count, expected.points(expected.count - 1).length],
    "keys and points of the last key in get *",
  );
}

/** Stores the keys, grows some, refills: the state `expected` ends in. */
async function store(pipe: Pipeline, expected: Expected): Promise<void> {
  await putAll(pipe, KEYS, (i) => {
    const [[timestamp, value]] = expected.points(i);
    return [key(i), timestamp, value];
  });
  expected.count = KEYS;
  expected.grown = true;
  const grown = Array.from({ length: KEYS / 10 }, (_, n) => 10 * n + 3);
  await putAll(pipe, grown.length, (n) => {
    const i = grown[n];
    const [timestamp, value] = expected.points(i).find(([, v]) => v < 0)!;
    return [key(i), timestamp, value];
  });
  await putAll(pipe, REFILL, (n) => {
    const i = KEYS + n;
    const [[timestamp, value]] = expected.points(i);
    return [key(i), timestamp, value];
  });
  expected.count = KEYS + REFILL;
}

const OPTIONS = { port: 0, maxKeys: 2 * KEYS, log: () => {} };

Deno.test(`${KEYS.toLocaleString("en")} one-point keys, some grown and refilled, read back from memory by get and get *`, async () => {
  await using server = await serve(OPTIONS);
  await using pipe = await Pipeline.connect(server);
  const expected = new Expected();
  await store(pipe, expected);
  await readBack(pipe, expected);
});

Deno.test(`${KEYS.toLocaleString("en")} one-point keys read back with dataDir after a restart, and after every point was rewritten and the server restarted`, async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const options = {
    ...OPTIONS,
    dataDir: tmp.path,
    log: (message: string) => messages.push(message),
  };
  const expected = new Expected();
  {
    await using server = await serve(options);
    await using pipe = await Pipeline.connect(server);
    await store(pipe, expected);
  }
  {
    await using server = await serve(options);
    await using pipe = await Pipeline.connect(server);
    await readBack(pipe, expected);
    // Every point rewritten once, and a tenth of the keys twice: the
    // rewrites of sealed chunks go to later segments.
    const count = expected.count;
    expected.rounds = 1;
    const all: [number, number][] = [];
    for (let i = 0; i < count; i++) {
      for (let p = 0; p < expected.points(i).length; p++) all.push([i, p]);
    }
    await putAll(pipe, all.length, (n) => {
      const [i, p] = all[n];
      const [timestamp, value] = expected.points(i)[p];
      return [key(i), timestamp, value];
    });
    expected.extraBelow = Math.ceil(count / 10);
    await putAll(pipe, expected.extraBelow, (i) => {
      const [timestamp, value] = expected.points(i).find(([, v]) => v > 0)!;
      return [key(i), timestamp, value];
    });
  }
  {
    await using server = await serve(options);
    await using pipe = await Pipeline.connect(server);
    await readBack(pipe, expected);
  }
  // Each stop wrote a checkpoint: the starts replayed nothing.
  const starts = messages.filter((m) => m.startsWith("read "));
  assertEquals(starts.length, 3);
  for (const start of starts.slice(1)) {
    assertMatch(start, /replayed 0 puts from 1 WAL file /);
  }
  assertEquals(
    messages.filter((m) => /warn|error/i.test(m)),
    [],
    "problems logged",
  );
});
