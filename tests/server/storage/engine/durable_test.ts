/**
 * The storage engine's durable layer in one process: restarts give back
 * every point (compared with a Map-of-Maps oracle), checkpoints cut the
 * WAL, and start-up handles what a crash or damage leaves: `*.tmp` files,
 * damaged segment bytes, segments another one replaces, a checkpoint that
 * cannot be written.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { encodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import {
  EngineStore,
  type EngineStoreOptions,
} from "../../../../src/server/storage/engine/durable.ts";
import {
  segmentPath,
  segmentsDir,
  walDir,
  writeAtomically,
} from "../../../../src/server/storage/engine/files.ts";
import {
  decodeSegment,
  encodeSegment,
} from "../../../../src/server/storage/engine/segment_format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { Rng } from "../../../reliability/rng.ts";
import { FakeMemory } from "./fake_memory.ts";
import { copyTree, namesIn } from "./dir_files.ts";

/** What was acknowledged: key → second → value. */
type Oracle = Map<string, Map<number, number>>;

function remember(oracle: Oracle, points: readonly StoredPoint[]): void {
  for (const { key, timestamp, value } of points) {
    let one = oracle.get(key);
    if (one === undefined) oracle.set(key, one = new Map());
    one.set(timestamp, value);
  }
}

/** Every point as `key timestamp value`, sorted. */
function oracleLines(oracle: Oracle): string[] {
  return [...oracle].flatMap(([key, points]) =>
    [...points].map(([t, v]) => `${key} ${t} ${Object.is(v, -0) ? "-0" : v}`)
  ).sort();
}

function storeLines(store: EngineStore): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(
      timestamps,
      (t, i) => `${key} ${t} ${Object.is(values[i], -0) ? "-0" : values[i]}`,
    )
  ).sort();
}

/** Opens `dir` on a fresh memory sealing at 8 points, collecting its log. */
function open(
  dir: string,
  messages: string[],
  options: EngineStoreOptions = {},
): Promise<EngineStore> {
  return EngineStore.open(dir, new FakeMemory(8), {
    checkpointPoints: 300,
    log: (message) => messages.push(message),
    ...options,
  });
}

/** Random batches over 40 keys and two UTC days, rewrites included. */
function batches(rng: Rng, count: number): StoredPoint[][] {
  const out: StoredPoint[][] = [];
  const start = 19_999 * 86_400 - 3000;
  for (let b = 0; b < count; b++) {
    out.push(Array.from({ length: rng.int(1, 30) }, () => ({
      key: `k${rng.int(0, 39)}`,
      timestamp: start + rng.int(0, 6000),
      value: rng.chance(0.02) ? -0 : rng.int(-1e6, 1e6) / 100,
    })));
  }
  return out;
}

Deno.test("every acknowledged point reads back after restarts, with checkpoints in between", async () => {
  await using tmp = await tempDir();
  const rng = new Rng(21);
  const oracle: Oracle = new Map();
  const messages: string[] = [];
  for (let round = 0; round < 3; round++) {
    const store = await open(tmp.path, messages);
    assertEquals(storeLines(store), oracleLines(oracle), `round ${round}`);
    for (const batch of batches(rng, 200)) {
      await store.put(batch);
      remember(oracle, batch);
    }
    assertEquals(storeLines(store), oracleLines(oracle));
    await store.close();
  }
  const segments = await namesIn(segmentsDir(tmp.path));
  assert(segments.length > 4, `${segments}`);
  const store = await open(tmp.path, messages);
  assertEquals(storeLines(store), oracleLines(oracle));
  await store.close();
});

Deno.test("a clean close leaves one empty WAL file and a checkpoint: the next start replays nothing", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const store = await open(tmp.path, messages, { checkpointPoints: 1e9 });
  await store.put([{ key: "a", timestamp: 10, value: 1 }]);
  await store.close();
  const files = await namesIn(walDir(tmp.path));
  assertEquals(files, ["00000002", "checkpoint.00000001"]);
  assertEquals((await Deno.stat(`${walDir(tmp.path)}/00000002`)).size, 8);
  const reopened = await open(tmp.path, messages);
  assertMatch(messages.at(-1)!, /1 head point .* replayed 0 puts/);
  assertEquals(storeLines(reopened), ["a 10 1"]);
  await reopened.close();
});

Deno.test("a checkpoint once the WAL holds checkpointPoints deletes the WAL files it covers", async () => {
  await using tmp = await tempDir();
  const store = await open(tmp.path, [], { checkpointPoints: 100 });
  for (let i = 0; i < 250; i++) {
    await store.put([{ key: "k", timestamp: i, value: i }]);
  }
  // A checkpoint writes after the put that triggered it is acknowledged.
  for (
    let i = 0;
    i < 100 && (await namesIn(walDir(tmp.path)))[0] < "00000003";
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const wal = await namesIn(walDir(tmp.path));
  assertEquals(wal.filter((name) => !name.startsWith("checkpoint")).length, 1);
  assert(wal[0] >= "00000003", `${wal}`);
  assert((await namesIn(segmentsDir(tmp.path))).length > 0);
  await store.close();
  const reopened = await open(tmp.path, []);
  assertEquals(reopened.get("k")?.timestamps.length, 250);
  await reopened.close();
});

Deno.test("leftover *.tmp files of an interrupted write are deleted at start", async () => {
  await using tmp = await tempDir();
  await (await open(tmp.path, [])).close();
  const junk = [
    `${segmentsDir(tmp.path)}/2024-05-01.000009.seg.tmp`,
    `${walDir(tmp.path)}/checkpoint.00000009.tmp`,
  ];
  for (const path of junk) await Deno.writeFile(path, new Uint8Array(100));
  const store = await open(tmp.path, []);
  assertEquals(await namesIn(segmentsDir(tmp.path)), []);
  assert(
    !(await namesIn(walDir(tmp.path))).some((name) => name.endsWith(".tmp")),
  );
  await store.close();
});

Deno.test("a flipped byte in a segment costs its chunk only: reported with the key, the file kept aside and repaired", async () => {
  await using tmp = await tempDir();
  const store = await open(tmp.path, [], { checkpointPoints: 1e9 });
  const oracle: Oracle = new Map();
  for (const key of ["a", "b", "c"]) {
    const batch = Array.from(
      { length: 8 },
      (_, i) => ({ key, timestamp: i, value: i / 10 }),
    );
    await store.put(batch);
    remember(oracle, batch);
  }
  await store.close();
  const [segment] = await namesIn(segmentsDir(tmp.path));
  const path = `${segmentsDir(tmp.path)}/${segment}`;
  const bytes = await Deno.readFile(path);
  // A byte inside the chunk of key "b".
  const b = decodeSegment(bytes).records.find((record) => record.key === "b")!;
  bytes[b.bytes.byteOffset + 2] ^= 0x20;
  await Deno.writeFile(path, bytes);
  const messages: string[] = [];
  const reopened = await open(tmp.path, messages);
  assertMatch(
    messages.join("\n"),
    /warning: .*\.seg: a chunk fails its CRC-32 check at byte \d+ \(key b\).*kept as .*\.damaged-/,
  );
  oracle.delete("b");
  assertEquals(storeLines(reopened), oracleLines(oracle));
  assertEquals(reopened.damagedChunks, 1);
  await reopened.close();
  assertEquals((await namesIn(segmentsDir(tmp.path))).length, 2);
  const again: string[] = [];
  const third = await open(tmp.path, again);
  assert(!again.some((m) => m.startsWith("warning")), `${again}`);
  assertEquals(storeLines(third), oracleLines(oracle));
  await third.close();
});

Deno.test("a segment whose footer says it replaces others wins: they are deleted at start", async () => {
  await using tmp = await tempDir();
  await (await open(tmp.path, [])).close();
  const chunk = (key: string, value: number) => ({
    key,
    first: 100,
    last: 100,
    bytes: encodeChunk([100], [value]),
  });
  const write = (
    sequence: number,
    replaces: number[],
    chunks: ReturnType<typeof chunk>[],
  ) =>
    writeAtomically(
      segmentPath(tmp.path, 0, sequence),
      encodeSegment(chunks, { sequence, kind: "segment", replaces }),
    );
  await write(1, [], [chunk("old", 1), chunk("x", 1)]);
  await write(2, [], [chunk("x", 2)]);
  await write(3, [1, 2], [chunk("x", 3)]);
  const store = await open(tmp.path, []);
  assertEquals(storeLines(store), ["x 100 3"]);
  assertEquals(await namesIn(segmentsDir(tmp.path)), ["1970-01-01.000003.seg"]);
  await store.close();
});

Deno.test("a checkpoint that cannot be written keeps the WAL and its chunks, warns once, and succeeds at the next one", async () => {
  await using tmp = await tempDir();
  const messages: string[] = [];
  const store = await open(tmp.path, messages, { checkpointPoints: 50 });
  const oracle: Oracle = new Map();
  // Segments cannot be made while `segments` is a file.
  const segments = segmentsDir(tmp.path);
  await Deno.remove(segments, { recursive: true });
  await Deno.writeTextFile(segments, "in the way");
  for (let i = 0; i < 400; i++) {
    const batch = [{ key: `k${i % 3}`, timestamp: i, value: i }];
    await store.put(batch);
    remember(oracle, batch);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const warnings = messages.filter((m) =>
    m.startsWith("warning: cannot write a checkpoint")
  );
  assertEquals(warnings.length, 1, `${messages}`);
  assert(
    (await namesIn(walDir(tmp.path))).filter((n) => !n.startsWith("c")).length >
      1,
  );
  await Deno.remove(segments);
  await Deno.mkdir(segments);
  await store.close();
  assertMatch(messages.at(-1)!, /is written again/);
  // The close's checkpoint wrote the chunks kept since the failure, and
  // deleted every WAL file but the new empty one: the points below come
  // from segments and the checkpoint only.
  assertEquals((await namesIn(walDir(tmp.path))).length, 2);
  const reopened = await open(tmp.path, []);
  assertEquals(storeLines(reopened), oracleLines(oracle));
  await reopened.close();
});

Deno.test("keys come back in first-seen order, whether their points are sealed, in the head or only in the WAL", async () => {
  await using tmp = await tempDir();
  const dir = `${tmp.path}/data`;
  const order: string[] = [];
  const put = async (store: EngineStore, key: string, count: number) => {
    if (!order.includes(key)) order.push(key);
    for (let i = 0; i < count; i++) {
      await store.put([{
        key,
        timestamp: 1000 + order.length * 10 + i,
        value: i,
      }]);
    }
  };
  const keysOf = (store: EngineStore) => [...store.getAll()].map((s) => s.key);
  // A key of one point (never sealed) first, then keys sealed at once.
  const first = await open(dir, [], { checkpointPoints: 1e9 });
  await put(first, "head.only", 1);
  await put(first, "sealed.b", 20);
  await put(first, "sealed.a", 20);
  await put(first, "head.only", 2);
  await first.close();
  const second = await open(dir, [], { checkpointPoints: 1e9 });
  assertEquals(keysOf(second), order);
  // Keys first seen after the checkpoint, sealed in memory only.
  await put(second, "wal.z", 20);
  await put(second, "wal.y", 1);
  await put(second, "sealed.a", 20);
  await copyTree(dir, `${tmp.path}/killed`);
  await second.close();
  for (const path of [dir, `${tmp.path}/killed`]) {
    const store = await open(path, []);
    assertEquals(keysOf(store), order, path);
    await store.close();
  }
});
