import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import {
  FrameWriter,
  MAGIC,
  readLog,
} from "../../../../src/server/storage/log/format.ts";
import { LogStore } from "../../../../src/server/storage/log/store.ts";
import type {
  Storage,
  StoredPoint,
} from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { BATCHES } from "./fixture_points.ts";
import { Rng } from "../../../reliability/rng.ts";

type Point = [key: string, timestamp: number, value: number];

/** Writes a log file made of one frame per batch. */
async function writeLogFile(path: string, batches: StoredPoint[][]) {
  const frames = batches.map((batch) => {
    const writer = new FrameWriter();
    writer.appendPoints(batch);
    return writer.take();
  });
  await Deno.writeFile(path, concat([MAGIC, ...frames]));
  return frames;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function scan(path: string) {
  const seen: Point[] = [];
  using file = await Deno.open(path);
  const result = await readLog(file, (k, t, v) => seen.push([k, t, v]));
  return { ...result, seen };
}

async function contents(storage: Storage): Promise<Point[]> {
  const result: Point[] = [];
  for (const { key, timestamps, values } of await storage.getAll()) {
    for (let i = 0; i < timestamps.length; i++) {
      result.push([key, timestamps[i], values[i]]);
    }
  }
  return result;
}

const A: StoredPoint[] = [
  { key: "a", timestamp: 1, value: 0.5 },
  { key: "a", timestamp: 2, value: 1.5 },
  { key: "é", timestamp: 3, value: -2 },
];
const B: StoredPoint[] = [{ key: "b", timestamp: 9, value: 12 }];

/** `points` as the tuples `scan` and `contents` give. */
const pointsOf = (points: StoredPoint[]): Point[] =>
  points.map((p) => [p.key, p.timestamp, p.value]);

Deno.test("readLog reads back every point FrameWriter wrote", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await writeLogFile(`${dir}/log`, [A, B]);
  const result = await scan(`${dir}/log`);
  assertEquals(result.problem, undefined);
  assertEquals(result.validBytes, result.fileBytes);
  assertEquals(
    result.seen,
    [...A, ...B].map((p) => [p.key, p.timestamp, p.value]),
  );
});

Deno.test("readLog stops before a torn last frame, cut at any byte", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const [first, second] = await writeLogFile(`${dir}/log`, [A, B]);
  const whole = await Deno.readFile(`${dir}/log`);
  const goodEnd = MAGIC.length + first.length;
  for (let cut = goodEnd + 1; cut < goodEnd + second.length; cut++) {
    await Deno.writeFile(`${dir}/log`, whole.subarray(0, cut));
    const result = await scan(`${dir}/log`);
    assertEquals(result.validBytes, goodEnd, `cut at ${cut}`);
    assertEquals(result.seen, pointsOf(A));
    assert(result.problem !== undefined);
  }
});

Deno.test("readLog detects a flipped byte in any part of a frame", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const [first, second] = await writeLogFile(`${dir}/log`, [A, B]);
  const whole = await Deno.readFile(`${dir}/log`);
  const goodEnd = MAGIC.length + first.length;
  for (let at = goodEnd; at < goodEnd + second.length; at++) {
    const corrupt = whole.slice();
    corrupt[at] ^= 0x40;
    await Deno.writeFile(`${dir}/log`, corrupt);
    const result = await scan(`${dir}/log`);
    assertEquals(result.validBytes, goodEnd, `flip at ${at}`);
    assertEquals(result.seen, pointsOf(A));
  }
});

Deno.test("readLog refuses a file that is not a metrics log", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/log`, "put a 1 2\n");
  await assertRejects(() => scan(`${dir}/log`), Error, "magic");
});

Deno.test("readLog counts a torn magic as an empty log", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeFile(`${dir}/log`, MAGIC.subarray(0, 3));
  assertEquals((await scan(`${dir}/log`)).validBytes, 0);
});

/** Opens a LogStore on `dir` collecting its messages. */
function open(dir: string, messages: string[] = [], compactMinPoints?: number) {
  return LogStore.open(dir, {
    compactMinPoints,
    log: (message) => messages.push(message),
  });
}

Deno.test("LogStore keeps puts across a close and reopen", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const store = await open(dir);
  await store.put(A);
  await store.put(B);
  await store.close();
  const reopened = await open(dir);
  assertEquals(await contents(reopened), pointsOf([...A, ...B]));
  await reopened.close();
});

Deno.test("LogStore reopens to exactly the points of 30,000 random puts, rewrites and out-of-order seconds included", async () => {
  await using tmp = await tempDir();
  const rng = new Rng(27);
  // The oracle: each key's last write per second, keys in first-seen order.
  const model = new Map<string, Map<number, number>>();
  const store = await open(tmp.path);
  for (let batch = 0; batch < 300; batch++) {
    const points: StoredPoint[] = [];
    for (let i = rng.int(1, 199); i > 0; i--) {
      const key = `k.${rng.int(0, rng.chance(0.5) ? 20 : 3000)}`;
      const point = {
        key,
        timestamp: rng.int(0, 500),
        value: rng.int(-1e6, 1e6) / 16,
      };
      points.push(point);
      const series = model.get(key) ?? new Map<number, number>();
      model.set(key, series.set(point.timestamp, point.value));
    }
    await store.put(points);
  }
  await store.close();
  const expected = [...model].flatMap(([key, series]) =>
    [...series].sort((a, b) => a[0] - b[0]).map(([t, v]): Point => [key, t, v])
  );
  const reopened = await open(tmp.path);
  assertEquals(await contents(reopened), expected);
  await reopened.close();
});

Deno.test("LogStore drops a torn tail with a warning and appends after it", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const [first] = await writeLogFile(`${dir}/metrics.log`, [A, B]);
  const size = (await Deno.stat(`${dir}/metrics.log`)).size;
  await Deno.truncate(`${dir}/metrics.log`, size - 3);
  const messages: string[] = [];
  const store = await open(dir, messages);
  assertMatch(messages.join("\n"), /warning: .*cut off the last \d+ bytes/);
  assertEquals(
    (await Deno.stat(`${dir}/metrics.log`)).size,
    MAGIC.length + first.length,
  );
  await store.put(B);
  await store.close();
  const reopened = await open(dir);
  assertEquals(await contents(reopened), pointsOf([...A, ...B]));
  await reopened.close();
});

Deno.test("LogStore refuses to open a file that is not its log", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/metrics.log`, "precious data\n");
  await assertRejects(() => open(dir), Error, "not start with");
  assertEquals(
    await Deno.readTextFile(`${dir}/metrics.log`),
    "precious data\n",
  );
});

Deno.test("LogStore compacts a log that rewrites the same second", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const messages: string[] = [];
  const store = await open(dir, messages, 100);
  for (let i = 0; i < 2000; i++) {
    await store.put([
      { key: "a", timestamp: 1, value: i },
      { key: "b", timestamp: i % 10, value: i },
    ]);
  }
  await store.close();
  assertMatch(messages.join("\n"), /compacted/);
  // 11 live points; the log holds at most about 2 * 100 puts.
  const { size } = await Deno.stat(`${dir}/metrics.log`);
  assert(size < 250 * 30, `log of ${size} bytes`);
  const reopened = await open(dir);
  const points = await contents(reopened);
  assertEquals(points[0], ["a", 1, 1999]);
  assertEquals(
    points.slice(1),
    [...Array(10)].map((_, t) => ["b", t, 1990 + t]),
  );
  await reopened.close();
});

Deno.test("LogStore compacts a long log when it opens", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const same = Array.from(
    { length: 500 },
    (_, i) => [{ key: "a", timestamp: 1, value: i }],
  );
  await writeLogFile(`${dir}/metrics.log`, same);
  const before = (await Deno.stat(`${dir}/metrics.log`)).size;
  const store = await open(dir, [], 100);
  await store.close();
  assert((await Deno.stat(`${dir}/metrics.log`)).size < before / 10);
  const reopened = await open(dir);
  assertEquals(await contents(reopened), [["a", 1, 499]]);
  await reopened.close();
});

Deno.test("LogStore in interval mode keeps puts across a close", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const store = await LogStore.open(dir, {
    fsync: "interval",
    fsyncInterval: 10,
    log: () => {},
  });
  await store.put(A);
  await new Promise((resolve) => setTimeout(resolve, 30));
  await store.put(B);
  await store.close();
  const reopened = await open(dir);
  assertEquals(await contents(reopened), pointsOf([...A, ...B]));
  await reopened.close();
});

Deno.test("LogStore rejects puts after close", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const store = await open(dir);
  await store.close();
  await store.close();
  await assertRejects(async () => await store.put(A), Error, "closed");
});

Deno.test("a log written by the first build's CRC-32 code replays, and new frames are byte-identical", async () => {
  const fixture = new URL("./fixtures/v1.log", import.meta.url).pathname;
  const written = await Deno.readFile(fixture);
  const frames = BATCHES.map((batch) => {
    const writer = new FrameWriter();
    writer.appendPoints(batch);
    return writer.take();
  });
  assertEquals(concat([MAGIC, ...frames]), written);
  const { seen, ...result } = await scan(fixture);
  assertEquals(result.validBytes, written.length);
  assertEquals(result.problem, undefined);
  assertEquals(
    seen,
    BATCHES.flat().map((p): Point => [p.key, p.timestamp, p.value]),
  );
});
