/**
 * The storage engine under bad luck, as `--data` runs it (on a chunk
 * store): a second store on the same directory, its files deleted,
 * truncated, replaced or written while in use, and a WAL that cannot be
 * written for a while. Every acknowledged point must survive a restart,
 * and no byte found on disk may be destroyed.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import type { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import {
  segmentsDir,
  walDir,
  walPath,
} from "../../../../src/server/storage/engine/files.ts";
import {
  StorageRefusal,
  type StoredPoint,
} from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { legacyLogBytes } from "./legacy_log.ts";
import { openEngine } from "./open_engine.ts";
import { copyTree, namesIn } from "./dir_files.ts";

/** Opens `dir` with 8-point heads, checks every 20 ms, collecting messages. */
function open(dir: string, messages: string[] = []): Promise<EngineStore> {
  return openEngine(dir, {
    headPoints: 8,
    watchInterval: 0.02,
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

/** Puts `batch` ten points at a time, each put awaited. */
async function putAll(store: EngineStore, batch: StoredPoint[]): Promise<void> {
  for (let i = 0; i < batch.length; i += 10) {
    await store.put(batch.slice(i, i + 10));
  }
}

/** Every point of `store` as `key@timestamp=value`, sorted. */
function stored(store: EngineStore): string[] {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits (at most 5 s) until a message matches `pattern`. */
async function logged(messages: string[], pattern: RegExp): Promise<void> {
  for (let i = 0; i < 250 && !messages.some((m) => pattern.test(m)); i++) {
    await sleep(20);
  }
  assert(messages.some((m) => pattern.test(m)), messages.join("\n"));
}

/** Reopens `dir` and checks it holds exactly `expected`, with no warning. */
async function assertReopens(
  dir: string,
  expected: StoredPoint[],
): Promise<void> {
  const messages: string[] = [];
  const reopened = await open(dir, messages);
  try {
    assertEquals(stored(reopened), names(expected));
    assertEquals(messages.filter((m) => m.startsWith("warning")), []);
  } finally {
    await reopened.close();
  }
}

Deno.test("a second store on the same directory is refused, naming it", async () => {
  await using tmp = await tempDir();
  const first = await open(tmp.path);
  await assertRejects(
    () => open(tmp.path),
    Error,
    `${tmp.path} is in use by another metrics server`,
  );
  await first.put(points("a", 1, 3));
  await first.close();
  await assertReopens(tmp.path, points("a", 1, 3));
});

const FOREIGN = "someone else's bytes\n";

/** Ways to touch a file; `foreign` ones leave bytes to keep aside. */
const TOUCH: [
  what: string,
  foreign: boolean,
  (path: string) => Promise<void>,
][] = [
  ["deleted", false, (path) => Deno.remove(path)],
  ["truncated to 0 bytes", false, (path) => Deno.truncate(path, 0)],
  ["cut by 5 bytes", false, async (path) => {
    await Deno.truncate(path, (await Deno.stat(path)).size - 5);
  }],
  ["replaced by another file", true, async (path) => {
    await Deno.writeTextFile(`${path}.other`, FOREIGN);
    await Deno.rename(`${path}.other`, path);
  }],
  [
    "grown by bytes written elsewhere",
    true,
    (path) => Deno.writeTextFile(path, FOREIGN, { append: true }),
  ],
];

/** Checks the copy of `path` kept aside ends with the foreign bytes. */
async function assertKeptAside(path: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const name = path.slice(dir.length + 1);
  const kept = (await namesIn(dir)).find((n) =>
    n.startsWith(`${name}.replaced-`)
  );
  assert(kept, `no copy of ${name} kept in ${await namesIn(dir)}`);
  assert((await Deno.readTextFile(`${dir}/${kept}`)).endsWith(FOREIGN));
}

for (const [what, foreign, touch] of TOUCH) {
  Deno.test(`the WAL file ${what} while in use: a checkpoint from memory, no acknowledged point lost`, async () => {
    await using tmp = await tempDir();
    const messages: string[] = [];
    const store = await open(tmp.path, messages);
    const before = points("a", 1, 100);
    await putAll(store, before);
    const wal = walPath(tmp.path, 1);
    await touch(wal);
    await sleep(10); // past the 5 ms between two checks
    const after = points("b", 1, 100);
    await putAll(store, after);
    assertMatch(
      messages.join("\n"),
      /warning: .*wal\/00000001 .* while in use; running a checkpoint from memory/,
    );
    if (foreign) await assertKeptAside(wal);
    // A close writes a checkpoint anyway: the files as a kill -9 leaves
    // them must hold every point too.
    await copyTree(tmp.path, `${tmp.path}.killed`);
    await store.close();
    await assertReopens(tmp.path, [...before, ...after]);
    await assertReopens(`${tmp.path}.killed`, [...before, ...after]);
    await Deno.remove(`${tmp.path}.killed`, { recursive: true });
  });
}

for (const [what, foreign, touch] of TOUCH) {
  Deno.test(`a segment ${what} while in use: every point rewritten from memory, none lost`, async () => {
    await using tmp = await tempDir();
    const messages: string[] = [];
    const store = await open(tmp.path, messages);
    const before = points("a", 1, 100);
    await putAll(store, before);
    await store.close();
    const reopened = await open(tmp.path, messages);
    const [segment] = await namesIn(segmentsDir(tmp.path));
    const path = `${segmentsDir(tmp.path)}/${segment}`;
    await touch(path);
    await logged(messages, /rewrote every point of .* from memory/);
    assertMatch(
      messages.join("\n"),
      /warning: .*\.seg .* while in use; rewriting every point from memory/,
    );
    if (foreign) await assertKeptAside(path);
    const after = points("b", 1, 100);
    await putAll(reopened, after);
    await copyTree(tmp.path, `${tmp.path}.killed`);
    await reopened.close();
    await assertReopens(tmp.path, [...before, ...after]);
    await assertReopens(`${tmp.path}.killed`, [...before, ...after]);
    await Deno.remove(`${tmp.path}.killed`, { recursive: true });
  });
}

Deno.test("a segment written to in place while in use (same size) is noticed and rewritten", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const store = await open(tmp.path, messages);
  const before = points("a", 1, 100);
  await putAll(store, before);
  await store.close();
  const reopened = await open(tmp.path, messages);
  const [segment] = await namesIn(segmentsDir(tmp.path));
  const path = `${segmentsDir(tmp.path)}/${segment}`;
  const bytes = await Deno.readFile(path);
  bytes[20] ^= 0x40;
  await sleep(20); // a later modification time than the file's
  await Deno.writeFile(path, bytes);
  await logged(messages, /rewrote every point of .* from memory/);
  assertMatch(messages.join("\n"), /\.seg was written to while in use/);
  await copyTree(tmp.path, `${tmp.path}.killed`);
  await reopened.close();
  await assertReopens(tmp.path, before);
  await assertReopens(`${tmp.path}.killed`, before);
  await Deno.remove(`${tmp.path}.killed`, { recursive: true });
});

Deno.test("the checkpoint deleted while in use: every point rewritten from memory, none lost", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const store = await open(tmp.path, messages);
  // Heads of 5 points each: the checkpoint holds them.
  const before = [...points("a", 1, 5), ...points("b", 1, 5)];
  await putAll(store, before);
  await store.close();
  const reopened = await open(tmp.path, messages);
  const checkpoint = (await namesIn(walDir(tmp.path))).find((n) =>
    n.startsWith("checkpoint.")
  );
  await Deno.remove(`${walDir(tmp.path)}/${checkpoint}`);
  await logged(messages, /rewrote every point of .* from memory/);
  await copyTree(tmp.path, `${tmp.path}.killed`);
  await reopened.close();
  await assertReopens(tmp.path, before);
  await assertReopens(`${tmp.path}.killed`, before);
  await Deno.remove(`${tmp.path}.killed`, { recursive: true });
});

Deno.test("a segment deleted just before a close is made good by the close", async () => {
  await using tmp = await tempDir();
  await (async () => {
    const store = await open(tmp.path);
    await putAll(store, points("a", 1, 50));
    await store.close();
  })();
  const messages: string[] = [];
  const store = await openEngine(tmp.path, {
    headPoints: 8,
    log: (message) => messages.push(message),
  });
  const [segment] = await namesIn(segmentsDir(tmp.path));
  await Deno.remove(`${segmentsDir(tmp.path)}/${segment}`);
  await store.close();
  assertMatch(messages.join("\n"), /\.seg was deleted while in use/);
  await assertReopens(tmp.path, points("a", 1, 50));
});

Deno.test("puts are refused with a reason while the WAL cannot be written, and taken again once it can", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const store = await open(tmp.path, messages);
  const acked = points("a", 1, 10);
  await store.put(acked);
  // The WAL file goes away, and no new one can be made: a directory
  // stands where the next WAL file must go.
  await Deno.remove(walPath(tmp.path, 1));
  await Deno.mkdir(walPath(tmp.path, 2));
  await sleep(10);
  const error = await assertRejects(
    async () => await store.put(points("b", 1, 1)),
    StorageRefusal,
  );
  assertEquals(error.message, "storage unavailable");
  assertEquals(store.refusal(points("c", 1, 1)[0]), "storage unavailable");
  await Deno.remove(walPath(tmp.path, 2));
  for (let i = 0; i < 100 && store.refusal(acked[0]) !== undefined; i++) {
    await sleep(20);
  }
  assertEquals(store.refusal(acked[0]), undefined);
  const later = points("d", 1, 10);
  await store.put(later);
  await store.close();
  assertMatch(messages.join("\n"), /is written again; taking puts/);
  // Exactly what was acknowledged, and maybe the put refused by the failed
  // write itself: it was taken into memory before the write failed, and
  // the checkpoint that recovered is written from memory.
  const reopened = await open(tmp.path);
  const refused = names(points("b", 1, 1));
  assertEquals(
    stored(reopened).filter((point) => !refused.includes(point)),
    names([...acked, ...later]),
  );
  await reopened.close();
});

Deno.test("a flipped byte in a 0.2 log costs one frame at its conversion: the rest is converted, the damage reported, counted and kept", async () => {
  await using tmp = await tempDir();
  const batches = Array.from({ length: 20 }, (_, i) => points(`k${i}`, 1, 50));
  const original = legacyLogBytes(batches);
  const damaged = original.slice();
  // A byte inside the eleventh frame (each holds 8 + 4 + 3 + 4 + 800 bytes).
  damaged[8 + 10 * 819 + 100] ^= 0x10;
  await Deno.writeFile(`${tmp.path}/metrics.log`, damaged);
  const messages: string[] = [];
  const store = await open(tmp.path, messages);
  const expected = batches.filter((_, i) => i !== 10).flat();
  assertEquals(stored(store), names(expected));
  assertEquals(store.damagedChunks, 1);
  assertMatch(
    messages.join("\n"),
    /metrics\.log: .*CRC-32 check at byte \d+; converted every good frame around the damage; the damaged log is kept as .*metrics\.log\.damaged-/,
  );
  await store.put(points("new", 1, 5));
  await store.close();
  const copy = (await namesIn(tmp.path)).find((n) =>
    n.startsWith("metrics.log.damaged-")
  );
  assert(copy, "no copy of the damaged log");
  assertEquals(await Deno.readFile(`${tmp.path}/${copy}`), damaged);
  await assertReopens(tmp.path, [...expected, ...points("new", 1, 5)]);
});
