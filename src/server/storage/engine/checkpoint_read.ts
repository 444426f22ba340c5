/**
 * Reading a checkpoint at start-up: a heads file (`heads_format.ts`), or
 * a segment of kind "checkpoint" as checkpoints were written before it
 * (each head a chunk). Damage is reported with its offsets, the file is
 * copied aside as `*.damaged-<time>` and rewritten with what checks out,
 * so the damage is reported once and later starts read a sound file.
 *
 * @module
 */

import { decodeChunk } from "../chunk/chunk.ts";
import { copyAside } from "../log/files.ts";
import { readSegmentFile, writeAtomically } from "./files.ts";
import {
  type DecodedHeads,
  decodeHeads,
  HeadsWriter,
  isHeadsFile,
} from "./heads_format.ts";

/** A checkpoint read: every key in first-seen order with its head points. */
export interface ReadCheckpoint {
  /** The keys and points, in flat columns (see {@link DecodedHeads}). */
  readonly heads: Omit<DecodedHeads, "damage">;
  /** Blocks (or records) found damaged and skipped. */
  readonly damaged: number;
}

/**
 * Reads checkpoint `n` at `path`, in either format; damage is handled as
 * the module says.
 */
export async function readCheckpoint(
  path: string,
  n: number,
  log: (message: string) => void,
): Promise<ReadCheckpoint> {
  const bytes = await Deno.readFile(path);
  if (!isHeadsFile(bytes)) return await readSegmentCheckpoint(path, n, log);
  const heads = decodeHeads(bytes);
  const { damage } = heads;
  if (damage.length === 0) return { heads, damaged: 0 };
  const copy = await copyAside(path, "damaged");
  const places = damage.map(({ offset, problem }) =>
    `${problem} at byte ${offset}`
  );
  log(
    `warning: ${path}: ${
      places.join("; ")
    }; kept the heads of ${heads.keys.length} keys and rewrote the file without the damage; the damaged file is kept as ${copy}`,
  );
  await writeAtomically(path, encodeColumns(heads));
  return { heads, damaged: damage.length };
}

/** A checkpoint written as a segment: each record a key and its head as a chunk. */
async function readSegmentCheckpoint(
  path: string,
  n: number,
  log: (message: string) => void,
): Promise<ReadCheckpoint> {
  const file = await readSegmentFile(path, n, "checkpoint", log);
  const heads: ReadCheckpoint["heads"] = {
    keys: [],
    counts: [],
    timestamps: [],
    values: [],
  };
  for (const { key, bytes } of file.records) {
    heads.keys.push(key);
    if (bytes.length === 0) {
      heads.counts.push(0);
      continue;
    }
    const { timestamps, values } = decodeChunk(bytes);
    heads.counts.push(timestamps.length);
    // A loop: spreading 65,536 points into push may overflow the stack.
    for (let i = 0; i < timestamps.length; i++) {
      heads.timestamps.push(timestamps[i]);
      heads.values.push(values[i]);
    }
  }
  return { heads, damaged: file.damaged };
}

/** Heads in flat columns as a heads file again. */
function encodeColumns(heads: ReadCheckpoint["heads"]): Uint8Array {
  const writer = new HeadsWriter();
  let from = 0;
  heads.keys.forEach((key, i) => {
    const to = from + heads.counts[i];
    writer.add(
      key,
      heads.timestamps.slice(from, to),
      heads.values.slice(from, to),
    );
    from = to;
  });
  return writer.finish();
}
