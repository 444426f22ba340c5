/**
 * What start-up counts as damaged (`damagedChunks`, shown on `/metrics`):
 * a flipped byte in the checkpoint, a WAL file or a 0.2 log counts once, and the
 * points around it read back as written.
 */

import { assertEquals } from "@std/assert";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import {
  checkpointPath,
  walPath,
} from "../../../../src/server/storage/engine/files.ts";
import { HEADS_MAGIC } from "../../../../src/server/storage/engine/heads_format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { copyTree } from "./dir_files.ts";
import { FakeMemory } from "./fake_memory.ts";
import { writeLegacyLog } from "./legacy_log.ts";

function open(dir: string): Promise<EngineStore> {
  return EngineStore.open(dir, new FakeMemory(8), {
    checkpointPoints: 1e9,
    log: () => {},
  });
}

/** `count` points of `key` from second `from` on. */
function run(key: string, from: number, count: number): StoredPoint[] {
  return Array.from(
    { length: count },
    (_, i) => ({ key, timestamp: from + i, value: from + i / 8 }),
  );
}

const text = (points: readonly StoredPoint[]): string[] =>
  points.map((p) => `${p.key} ${p.timestamp} ${p.value}`).sort();

function lines(store: EngineStore): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
  ).sort();
}

/** A byte inside the first block of a heads file: past the magic, the block's length and CRC. */
const FIRST_BLOCK_BODY = () => HEADS_MAGIC.length + 8 + 2;

/** Flips one bit of the byte at `at` (from the end when negative). */
async function flip(path: string, at: (bytes: Uint8Array) => number) {
  const bytes = await Deno.readFile(path);
  bytes[at(bytes)] ^= 0x10;
  await Deno.writeFile(path, bytes);
}

Deno.test("a flipped byte in the checkpoint counts one damaged block; the other keys read back", async () => {
  await using tmp = await tempDir();
  const sealed = run("a", 1000, 8); // a chunk of a segment
  const head = run("b", 2000, 3); // head points: in the checkpoint only
  const store = await open(tmp.path);
  await store.put([...sealed, ...head]);
  await store.close();
  const path = checkpointPath(tmp.path, 1);
  await flip(path, FIRST_BLOCK_BODY);
  const reopened = await open(tmp.path);
  assertEquals(reopened.damagedChunks, 1);
  assertEquals(lines(reopened), text(sealed));
  await reopened.close();
});

Deno.test("a flipped byte in a WAL file counts one damaged stretch; the puts before it read back", async () => {
  await using tmp = await tempDir();
  await using copy = await tempDir();
  const store = await open(tmp.path);
  const kept = run("a", 1000, 3);
  await store.put(kept);
  await store.put(run("b", 2000, 2));
  // What a kill -9 leaves: both puts in WAL file 1 only.
  await copyTree(tmp.path, copy.path);
  await store.close();
  // The last byte: the second put's frame.
  await flip(walPath(copy.path, 1), (bytes) => bytes.length - 1);
  const reopened = await open(copy.path);
  assertEquals(reopened.damagedChunks, 1);
  assertEquals(lines(reopened), text(kept));
  await reopened.close();
});

Deno.test("a flipped byte in a 0.2 log being converted counts one damaged stretch; the frames before it read back", async () => {
  await using tmp = await tempDir();
  const kept = run("a", 1000, 3);
  await writeLegacyLog(tmp.path, [kept, run("b", 2000, 2)]);
  // The last byte: the second batch's frame.
  await flip(`${tmp.path}/metrics.log`, (bytes) => bytes.length - 1);
  const store = await open(tmp.path);
  assertEquals(store.damagedChunks, 1);
  assertEquals(lines(store), text(kept));
  await store.close();
});

Deno.test("with its checkpoint record damaged, a key's rewrite in the WAL still wins over its segment chunk", async () => {
  await using tmp = await tempDir();
  await using copy = await tempDir();
  const sealed = run("b", 1000, 8); // a chunk of a segment
  const first = await open(tmp.path);
  await first.put([...sealed, { key: "b", timestamp: 1008, value: 0.5 }]);
  await first.close(); // the head point 1008 is in the checkpoint only
  const second = await open(tmp.path);
  const rewrite = { key: "b", timestamp: 1003, value: -99 };
  await second.put([rewrite]);
  // What a kill -9 leaves: the rewrite in the WAL only.
  await copyTree(tmp.path, copy.path);
  await second.close();
  await flip(checkpointPath(copy.path, 1), FIRST_BLOCK_BODY);
  const reopened = await open(copy.path);
  assertEquals(reopened.damagedChunks, 1);
  assertEquals(
    lines(reopened),
    text(sealed.map((p) => p.timestamp === 1003 ? rewrite : p)),
  );
  await reopened.close();
});
