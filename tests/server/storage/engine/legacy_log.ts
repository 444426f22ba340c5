/**
 * A data directory as 0.2 left it: `metrics.log`, the magic `MTRCLOG1` and
 * one frame per batch, for the conversion tests.
 *
 * @module
 */

import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import {
  FrameWriter,
  MAGIC,
} from "../../../../src/server/storage/log/format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";

/** The bytes of a 0.2 log of `batches`, one frame each. */
export function legacyLogBytes(batches: readonly StoredPoint[][]): Uint8Array {
  const frames = batches.map((batch) => {
    const writer = new FrameWriter();
    writer.appendPoints(PointColumns.of(batch));
    return writer.take();
  });
  const bytes = new Uint8Array(
    MAGIC.length + frames.reduce((sum, frame) => sum + frame.length, 0),
  );
  bytes.set(MAGIC);
  let at = MAGIC.length;
  for (const frame of frames) {
    bytes.set(frame, at);
    at += frame.length;
  }
  return bytes;
}

/** Writes `dir/metrics.log` holding `batches`, one frame each. */
export async function writeLegacyLog(
  dir: string,
  batches: readonly StoredPoint[][],
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(`${dir}/metrics.log`, legacyLogBytes(batches));
}
