/**
 * The expiry mark, `DIR/expired`: what a retention deleted stays deleted
 * across a restart. A deletion drops whole chunks from memory at once,
 * but the files written before it still hold them, and rewriting a day's
 * segment every half minute would cost far more than the deletion. So the
 * store records one line instead:
 *
 * ```text
 * MTRCEXP1 <before> <sequence> <wal> <CRC-32 of the text before it, hex>
 * ```
 *
 * It says: in segments with a sequence below `sequence`, a chunk whose
 * newest point is older than `before` is deleted; in checkpoints and WAL
 * files numbered up to `wal`, a point older than `before` is. Start-up
 * skips them, and deletes a segment whose chunks are all deleted. Files
 * written after the mark are not affected, so a point put later (say,
 * after a restart without a retention) is kept whatever its timestamp.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import { copyAside } from "../log/files.ts";
import { expiryMarkPath, writeAtomically } from "./files.ts";

/** What a mark says is deleted; see the module. */
export interface ExpiryMark {
  /** Points older than this (Unix seconds) are expired. */
  readonly before: number;
  /** Segments with a sequence below this one were written before the mark. */
  readonly sequence: number;
  /** WAL files and checkpoints up to this number were written before it. */
  readonly wal: number;
}

/** The mark of a directory where nothing was deleted. */
export const NO_EXPIRY: ExpiryMark = {
  before: -Infinity,
  sequence: 0,
  wal: -1,
};

const MAGIC = "MTRCEXP1";

/** Whether a chunk of segment `sequence` ending at `last` is deleted. */
export function expiredChunk(
  mark: ExpiryMark,
  sequence: number,
  last: number,
): boolean {
  return sequence < mark.sequence && last < mark.before;
}

/** Whether a point at `timestamp` of WAL file or checkpoint `wal` is deleted. */
export function expiredPoint(
  mark: ExpiryMark,
  wal: number,
  timestamp: number,
): boolean {
  return wal <= mark.wal && timestamp < mark.before;
}

/** The mark's file contents. */
function markText(mark: ExpiryMark): string {
  const text = `${MAGIC} ${mark.before} ${mark.sequence} ${mark.wal}`;
  return `${text} ${crc32(text).toString(16)}\n`;
}

/**
 * Writes `mark` to `dir` atomically (a crash leaves the old mark or the
 * new one).
 */
export async function writeExpiryMark(
  dir: string,
  mark: ExpiryMark,
): Promise<void> {
  await writeAtomically(
    expiryMarkPath(dir),
    new TextEncoder().encode(markText(mark)),
  );
}

/**
 * The mark of `dir`, {@link NO_EXPIRY} when there is none. A damaged mark
 * is reported to `log`, kept aside as `expired.damaged-<time>` and
 * ignored: the points it deleted come back until the next deletion, and
 * `damaged` is 1.
 */
export async function readExpiryMark(
  dir: string,
  log: (message: string) => void,
): Promise<{ mark: ExpiryMark; damaged: number }> {
  const path = expiryMarkPath(dir);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { mark: NO_EXPIRY, damaged: 0 };
    }
    throw error;
  }
  const fields = text.trimEnd().split(" ");
  const [before, sequence, wal] = fields.slice(1, 4).map(Number);
  const mark = { before, sequence, wal };
  if (
    fields.length === 5 && fields[0] === MAGIC &&
    [before, sequence, wal].every(Number.isSafeInteger) &&
    markText(mark) === text
  ) {
    return { mark, damaged: 0 };
  }
  const copy = await copyAside(path, "damaged");
  log(
    `warning: ${path} is damaged; points deleted by the retention before it was written may come back until the next deletion; the file is kept as ${copy}`,
  );
  return { mark: NO_EXPIRY, damaged: 1 };
}
