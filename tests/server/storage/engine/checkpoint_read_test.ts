/**
 * A checkpoint at start-up: the heads file a close writes gives back every
 * head point and the keys' first-seen order; a checkpoint written as a
 * segment (before heads files) is still read; a damaged block of a heads
 * file is reported, counted, kept aside and costs only its keys' heads.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { encodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import {
  checkpointPath,
  WAL_MAGIC,
  walDir,
  walPath,
} from "../../../../src/server/storage/engine/files.ts";
import {
  HEADS_MAGIC,
} from "../../../../src/server/storage/engine/heads_format.ts";
import { encodeSegment } from "../../../../src/server/storage/engine/segment_format.ts";
import type { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { tempDir } from "../../../helpers/server.ts";
import { namesIn } from "./dir_files.ts";
import { openEngine } from "./open_engine.ts";

/** Every key's points as `key t=v …`, in the order `get *` gives them. */
function lines(store: EngineStore): string[] {
  return [...store.getAll()].map(({ key, timestamps, values }) =>
    `${key} ${Array.from(timestamps, (t, i) => `${t}=${values[i]}`).join(" ")}`
  );
}

/** Puts `keys` keys of `points` points each (10 s apart), then closes. */
async function written(dir: string, keys: number, points: number) {
  const store = await openEngine(dir, { headPoints: 8 });
  for (let p = 0; p < points; p++) {
    await store.put(Array.from({ length: keys }, (_, k) => ({
      key: `key.${k}`,
      timestamp: 1_700_000_000 + 10 * p,
      value: k + p / 4,
    })));
  }
  const expected = lines(store);
  await store.close();
  return expected;
}

Deno.test("a clean close writes the heads as a heads file and a restart reads every point back in first-seen order", async () => {
  await using tmp = await tempDir();
  const expected = await written(tmp.path, 50, 13);
  const [checkpoint] = (await namesIn(walDir(tmp.path)))
    .filter((name) => name.startsWith("checkpoint."));
  const bytes = await Deno.readFile(`${walDir(tmp.path)}/${checkpoint}`);
  assertEquals(bytes.subarray(0, 8), HEADS_MAGIC);
  const store = await openEngine(tmp.path, { headPoints: 8 });
  assertEquals(lines(store), expected);
  await store.close();
});

Deno.test("a checkpoint written as a segment, each head a chunk, is still read at start", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(walDir(tmp.path), { recursive: true });
  const chunk = (key: string, timestamps: number[], values: number[]) => ({
    key,
    first: timestamps[0],
    last: timestamps[timestamps.length - 1],
    bytes: encodeChunk(timestamps, values),
  });
  await Deno.writeFile(
    checkpointPath(tmp.path, 4),
    encodeSegment([
      chunk("b", [10, 20], [1, 2]),
      { key: "sealed", first: 0, last: 0, bytes: new Uint8Array() },
      chunk("a", [5], [-0.5]),
    ], { sequence: 4, kind: "checkpoint", replaces: [] }),
  );
  await Deno.writeFile(walPath(tmp.path, 5), WAL_MAGIC);
  const messages: string[] = [];
  const store = await openEngine(tmp.path, {
    log: (message) => messages.push(message),
  });
  assertEquals(lines(store), ["b 10=1 20=2", "a 5=-0.5"]);
  assertMatch(messages.join("\n"), / 3 head points from checkpoint 4/);
  await store.close();
  const reopened = await openEngine(tmp.path);
  assertEquals(lines(reopened), ["b 10=1 20=2", "a 5=-0.5"]);
  await reopened.close();
});

Deno.test("a flipped byte in a heads file costs one block of heads: reported, counted, kept aside, and the next start is silent", async () => {
  await using tmp = await tempDir();
  // 3,000 keys of 3 head points: several 4 KB blocks.
  const expected = await written(tmp.path, 3000, 3);
  const [name] = (await namesIn(walDir(tmp.path)))
    .filter((n) => n.startsWith("checkpoint."));
  const path = `${walDir(tmp.path)}/${name}`;
  const bytes = await Deno.readFile(path);
  bytes[Math.floor(bytes.length / 2)] ^= 0x10;
  await Deno.writeFile(path, bytes);
  const messages: string[] = [];
  const store = await openEngine(tmp.path, {
    headPoints: 8,
    log: (message) => messages.push(message),
  });
  assertMatch(
    messages.join("\n"),
    /warning: .*checkpoint\.\d+: a block fails its CRC-32 check at byte \d+; kept the heads of \d+ keys .*kept as .*\.damaged-/,
  );
  assertEquals(store.damagedChunks, 1);
  const got = lines(store);
  const kept = expected.filter((line) => got.includes(line));
  assertEquals(got, kept, "a head changed");
  const lost = expected.length - kept.length;
  assert(lost > 0 && lost < 200, `${lost} keys lost`);
  await store.close();
  assert(
    (await namesIn(walDir(tmp.path))).some((n) => n.includes(".damaged-")),
  );
  const again: string[] = [];
  const reopened = await openEngine(tmp.path, {
    headPoints: 8,
    log: (message) => again.push(message),
  });
  assert(!again.some((m) => m.startsWith("warning")), `${again}`);
  assertEquals(lines(reopened), got);
  await reopened.close();
});
