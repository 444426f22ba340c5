/**
 * The log under bad luck: a second server on the same directory, the file
 * deleted, truncated, cut or replaced while in use, a flipped byte in the
 * middle, and a log that cannot be written for a while. Every acknowledged
 * point must survive, and no byte found on disk may be destroyed.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import {
  FrameWriter,
  MAGIC,
  readLog,
} from "../../../../src/server/storage/log/format.ts";
import { LogStore } from "../../../../src/server/storage/log/store.ts";
import {
  StorageRefusal,
  type StoredPoint,
} from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";

/** Opens a LogStore on `dir` collecting its messages. */
function open(dir: string, messages: string[] = []): Promise<LogStore> {
  return LogStore.open(dir, {
    retryInterval: 0.02,
    log: (message) => messages.push(message),
  });
}

/** `count` puts of key `key`, one per second from `from`. */
function points(key: string, from: number, count: number): StoredPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    key,
    timestamp: from + i,
    value: i / 2,
  }));
}

/** Every point of `store` as `key@timestamp=value`, sorted. */
function stored(store: LogStore): string[] {
  const all: string[] = [];
  for (const { key, timestamps, values } of store.getAll()) {
    for (let i = 0; i < timestamps.length; i++) {
      all.push(`${key}@${timestamps[i]}=${values[i]}`);
    }
  }
  return all.sort();
}

function names(points: StoredPoint[]): string[] {
  return points.map((p) => `${p.key}@${p.timestamp}=${p.value}`).sort();
}

/** Waits past the store's check interval, so the next write checks. */
function pastWatch(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}

Deno.test("a second LogStore on the same directory is refused, naming it", async () => {
  await using tmp = await tempDir();
  const first = await open(tmp.path);
  await assertRejects(
    () => open(tmp.path),
    Error,
    `${tmp.path} is in use by another metrics server`,
  );
  await first.put(points("a", 1, 3));
  await first.close();
  const again = await open(tmp.path);
  assertEquals(stored(again), names(points("a", 1, 3)));
  await again.close();
});

const DAMAGE: [string, (path: string) => Promise<void>][] = [
  ["deleted", (path) => Deno.remove(path)],
  ["truncated to 0 bytes", (path) => Deno.truncate(path, 0)],
  ["cut by 5 bytes", async (path) => {
    await Deno.truncate(path, (await Deno.stat(path)).size - 5);
  }],
  ["replaced by another file", async (path) => {
    await Deno.writeTextFile(`${path}.other`, "someone else's bytes\n");
    await Deno.rename(`${path}.other`, path);
  }],
];

for (const [what, damage] of DAMAGE) {
  Deno.test(`a log ${what} while in use is rewritten from memory: no acknowledged point lost`, async () => {
    await using tmp = await tempDir();
    const messages: string[] = [];
    const store = await open(tmp.path, messages);
    const before = points("a", 1, 100);
    for (let i = 0; i < before.length; i += 10) {
      await store.put(before.slice(i, i + 10));
    }
    await damage(`${tmp.path}/metrics.log`);
    await pastWatch();
    const after = points("b", 1, 100);
    for (let i = 0; i < after.length; i += 10) {
      await store.put(after.slice(i, i + 10));
    }
    await store.close();
    assertMatch(
      messages.join("\n"),
      /warning: .*metrics\.log .* while in use; writing a fresh log from memory/,
    );
    const reopened = await open(tmp.path);
    assertEquals(stored(reopened), names([...before, ...after]));
    await reopened.close();
    if (what.startsWith("replaced")) {
      const kept = [...Deno.readDirSync(tmp.path)].find((e) =>
        e.name.startsWith("metrics.log.replaced-")
      );
      assert(kept, "the foreign file was not kept");
      assertEquals(
        await Deno.readTextFile(`${tmp.path}/${kept!.name}`),
        "someone else's bytes\n",
      );
    }
  });
}

Deno.test("a log deleted after the last put is rewritten on close", async () => {
  await using tmp = await tempDir();
  const store = await open(tmp.path, []);
  await store.put(points("a", 1, 10));
  await Deno.remove(`${tmp.path}/metrics.log`);
  await store.close();
  const reopened = await open(tmp.path);
  assertEquals(stored(reopened), names(points("a", 1, 10)));
  await reopened.close();
});

Deno.test("a flipped byte mid-log costs one frame: the rest is replayed and the damaged log kept", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/metrics.log`;
  const batches = Array.from({ length: 20 }, (_, i) => points(`k${i}`, 1, 50));
  const frames = batches.map((batch) => {
    const writer = new FrameWriter();
    writer.appendPoints(batch);
    return writer.take();
  });
  const original = new Uint8Array(
    MAGIC.length + frames.reduce((n, f) => n + f.length, 0),
  );
  original.set(MAGIC);
  let at = MAGIC.length;
  const starts = frames.map((frame) => {
    original.set(frame, at);
    at += frame.length;
    return at - frame.length;
  });
  const damaged = original.slice();
  damaged[starts[10] + 100] ^= 0x10;
  await Deno.writeFile(path, damaged);
  const messages: string[] = [];
  const store = await open(tmp.path, messages);
  const expected = batches.filter((_, i) => i !== 10).flat();
  assertEquals(stored(store), names(expected));
  assertMatch(
    messages.join("\n"),
    /CRC-32 check at byte \d+; skipped \d+ damaged bytes in 1 place\(s\).*kept as .*metrics\.log\.damaged-/,
  );
  await store.put(points("new", 1, 5));
  await store.close();
  const copy = [...Deno.readDirSync(tmp.path)].find((e) =>
    e.name.startsWith("metrics.log.damaged-")
  );
  assert(copy, "no copy of the damaged log");
  assertEquals(await Deno.readFile(`${tmp.path}/${copy!.name}`), damaged);
  const later: string[] = [];
  const reopened = await open(tmp.path, later);
  assertEquals(stored(reopened), names([...expected, ...points("new", 1, 5)]));
  assert(!later.some((m) => m.startsWith("warning")), later.join("\n"));
  await reopened.close();
});

Deno.test("readLog resynchronises on the next good frame after garbage", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/log`;
  const frames = [points("a", 1, 3), points("b", 1, 3)].map((batch) => {
    const writer = new FrameWriter();
    writer.appendPoints(batch);
    return writer.take();
  });
  const garbage = new Uint8Array(1000).map((_, i) => (i * 7919) & 0xff);
  const bytes = new Uint8Array(
    MAGIC.length + frames[0].length + garbage.length + frames[1].length,
  );
  bytes.set(MAGIC);
  bytes.set(frames[0], MAGIC.length);
  bytes.set(garbage, MAGIC.length + frames[0].length);
  bytes.set(frames[1], MAGIC.length + frames[0].length + garbage.length);
  await Deno.writeFile(path, bytes);
  using file = await Deno.open(path);
  const seen: string[] = [];
  const scan = await readLog(file, (k, t, v) => seen.push(`${k}@${t}=${v}`));
  assertEquals(seen, names([...points("a", 1, 3), ...points("b", 1, 3)]));
  const from = MAGIC.length + frames[0].length;
  assertEquals(scan.skipped, [{ from, to: from + garbage.length }]);
});

Deno.test("puts are refused with a reason while the log cannot be written, and taken again once it can", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const store = await open(tmp.path, messages);
  const acked = points("a", 1, 10);
  await store.put(acked);
  // The log goes away, and a fresh one cannot be written: a directory
  // stands where the temporary file must go.
  await Deno.remove(`${tmp.path}/metrics.log`);
  await Deno.mkdir(`${tmp.path}/metrics.log.compact`);
  await pastWatch();
  const error = await assertRejects(
    async () => await store.put(points("b", 1, 1)),
    StorageRefusal,
  );
  assertEquals(error.message, "storage unavailable");
  assertEquals(store.refusal(points("c", 1, 1)[0]), "storage unavailable");
  await Deno.remove(`${tmp.path}/metrics.log.compact`);
  for (let i = 0; i < 100 && store.refusal(acked[0]) !== undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assertEquals(store.refusal(acked[0]), undefined);
  const later = points("d", 1, 10);
  await store.put(later);
  await store.close();
  assertMatch(messages.join("\n"), /is written again; taking puts/);
  // Exactly what was acknowledged, and maybe the put refused by the failed
  // write itself: it was taken into memory before the write failed, and
  // the fresh log is written from memory.
  const reopened = await open(tmp.path);
  const refused = names(points("b", 1, 1));
  assertEquals(
    stored(reopened).filter((point) => !refused.includes(point)),
    names([...acked, ...later]),
  );
  await reopened.close();
});
