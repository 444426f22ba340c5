/**
 * Checkpoints queued at once run one after the other: each sealed chunk
 * is written into exactly one segment, and every point reads back once.
 */

import { assertEquals } from "@std/assert";
import { decodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import {
  CheckpointWriter,
  dayChunks,
} from "../../../../src/server/storage/engine/checkpoint.ts";
import { NO_EXPIRY } from "../../../../src/server/storage/engine/expiry.ts";
import { encodeHeads } from "../../../../src/server/storage/engine/heads_format.ts";
import {
  segmentsDir,
  walDir,
} from "../../../../src/server/storage/engine/files.ts";
import { decodeSegment } from "../../../../src/server/storage/engine/segment_format.ts";
import { WatchedFiles } from "../../../../src/server/storage/engine/watch.ts";
import { tempDir } from "../../../helpers/server.ts";
import { namesIn } from "./dir_files.ts";

Deno.test("two checkpoints queued at once write each sealed chunk into one segment", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(segmentsDir(tmp.path), { recursive: true });
  await Deno.mkdir(walDir(tmp.path), { recursive: true });
  const writer = new CheckpointWriter(
    tmp.path,
    { nextSequence: 1, segments: [], mark: NO_EXPIRY },
    new WatchedFiles(),
  );
  const sealed = (key: string) =>
    dayChunks({ key, timestamps: [100, 101], values: [1, 2] }, 120);
  await Promise.all([
    writer.write({ wal: 1, sealed: sealed("a"), heads: encodeHeads([]) }),
    writer.write({ wal: 2, sealed: sealed("b"), heads: encodeHeads([]) }),
  ]);
  const stored: string[] = [];
  for (const name of await namesIn(segmentsDir(tmp.path))) {
    const bytes = await Deno.readFile(`${segmentsDir(tmp.path)}/${name}`);
    for (const { key, bytes: chunk } of decodeSegment(bytes).records) {
      const { timestamps, values } = decodeChunk(chunk);
      timestamps.forEach((t, i) => stored.push(`${key} ${t} ${values[i]}`));
    }
  }
  assertEquals(stored.sort(), ["a 100 1", "a 101 2", "b 100 1", "b 101 2"]);
});
