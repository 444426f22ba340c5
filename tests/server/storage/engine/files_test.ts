/**
 * The engine's file names, atomic writes, and WAL files read back at start:
 * a damaged frame costs that frame, and the file is kept aside.
 */

import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  isEngineFile,
  parseSegmentName,
  segmentPath,
  WAL_MAGIC,
  walDir,
  walPath,
  writeAtomically,
} from "../../../../src/server/storage/engine/files.ts";
import { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import { FrameWriter } from "../../../../src/server/storage/log/format.ts";
import { tempDir } from "../../../helpers/server.ts";
import { FakeMemory } from "./fake_memory.ts";

Deno.test("segments are named by UTC day and a zero-padded sequence, days past a Date by number", () => {
  assertEquals(
    segmentPath("D", 19_844, 42),
    "D/segments/2024-05-01.000042.seg",
  );
  assertEquals(
    segmentPath("D", -1, 1_234_567),
    "D/segments/1969-12-31.1234567.seg",
  );
  assertEquals(
    segmentPath("D", 1e11, 1),
    "D/segments/day100000000000.000001.seg",
  );
  assertEquals(walPath("D", 12), "D/wal/00000012");
});

Deno.test("a segment's name reads back as its day and sequence; other names do not", () => {
  for (
    const [day, sequence] of [
      [19_844, 42],
      [-1, 1_234_567],
      [0, 1],
      [1e11, 7],
      [-1e11, 3],
    ]
  ) {
    const name = segmentPath("D", day, sequence).slice("D/segments/".length);
    assertEquals(parseSegmentName(name), { day, sequence }, name);
    assert(isEngineFile(name), name);
  }
  for (
    const name of [
      "2024-05-01.000042.seg.damaged-2024-05-02T00-00-00.000Z",
      "2024-13-45.000001.seg",
      "notes.txt",
      "checkpoint.00000003.damaged-x",
    ]
  ) {
    assertEquals(parseSegmentName(name), undefined, name);
    assert(!isEngineFile(name), name);
  }
  for (
    const name of [
      "00000012",
      "checkpoint.00000011",
      "2024-05-01.000042.seg.tmp",
    ]
  ) {
    assert(isEngineFile(name), name);
  }
});

Deno.test("writeAtomically replaces a file whole and leaves no *.tmp", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/file`;
  await Deno.writeTextFile(path, "old");
  await writeAtomically(path, new TextEncoder().encode("new"));
  assertEquals(await Deno.readTextFile(path), "new");
  const names: string[] = [];
  for await (const { name } of Deno.readDir(tmp.path)) names.push(name);
  assertEquals(names, ["file"]);
});

Deno.test("a flipped byte in a WAL file costs its frame: the others are replayed and the file kept aside", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(walDir(tmp.path), { recursive: true });
  const frames = [1, 2, 3].map((n) => {
    const writer = new FrameWriter();
    writer.appendPoints(
      PointColumns.of([{ key: `k${n}`, timestamp: n, value: n * 1.5 }]),
    );
    return writer.take();
  });
  const bytes = new Uint8Array(
    WAL_MAGIC.length + frames.reduce((sum, f) => sum + f.length, 0),
  );
  bytes.set(WAL_MAGIC);
  let at = WAL_MAGIC.length;
  for (const frame of frames) {
    bytes.set(frame, at);
    at += frame.length;
  }
  bytes[WAL_MAGIC.length + frames[0].length + 12] ^= 0x04; // in frame 2
  await Deno.writeFile(walPath(tmp.path, 1), bytes);
  const messages: string[] = [];
  const store = await EngineStore.open(tmp.path, new FakeMemory(), {
    log: (m) => messages.push(m),
  });
  assertEquals([...store.getAll()].map((s) => s.key), ["k1", "k3"]);
  assertEquals(store.get("k3")?.values[0], 4.5);
  await store.close();
  const second = WAL_MAGIC.length + frames[0].length;
  assertMatch(
    messages.join("\n"),
    new RegExp(
      `00000001: .* at byte ${second}; .*kept as .*00000001\\.damaged-`,
    ),
  );
  const names: string[] = [];
  for await (const { name } of Deno.readDir(walDir(tmp.path))) names.push(name);
  assert(names.some((n) => n.startsWith("00000001.damaged-")), `${names}`);
});
