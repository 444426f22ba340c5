/**
 * A chunk's first and last timestamps as a segment's index gives them, or
 * decoded where the index is gone, without I/O.
 *
 * @module
 */

import { chunkHeader, decodeChunk } from "../chunk/chunk.ts";

/**
 * A sound chunk's first timestamp (its header's; 0 for an empty chunk) and
 * last (from an MTRCSEG2 index entry's `span`, last - first + 1; 0 when the
 * index does not give it), or `undefined` where the chunk is malformed.
 */
export function headerSpan(
  chunk: Uint8Array,
  span: number,
): { first: number; last: number } | undefined {
  if (span === 0) return spanOf(chunk);
  if (chunk.length === 0) return { first: 0, last: span - 1 };
  try {
    const { first } = chunkHeader(chunk);
    return { first, last: first + span - 1 };
  } catch {
    return undefined;
  }
}

/**
 * A sound chunk's first and last timestamps (decoded: the index is gone);
 * 0 and 0 for an empty one.
 */
export function spanOf(
  chunk: Uint8Array,
): { first: number; last: number } | undefined {
  if (chunk.length === 0) return { first: 0, last: 0 };
  try {
    const { timestamps } = decodeChunk(chunk);
    return { first: timestamps[0], last: timestamps[timestamps.length - 1] };
  } catch {
    return undefined;
  }
}
