/**
 * The one place growable buffers grow: append buffers (responses, log
 * frames, request lines, columns of points) and sliding read windows
 * (line and response readers). Each caller keeps only its offsets, so a
 * slip in copying or sizing can happen here alone, where it is tested past
 * many growth boundaries.
 *
 * @module
 */

/** A typed array that {@link withRoom} can grow. */
export type GrowableArray =
  | Uint8Array<ArrayBuffer>
  | Uint32Array<ArrayBuffer>
  | Float64Array<ArrayBuffer>
  | Uint32Array<SharedArrayBuffer>
  | Float64Array<SharedArrayBuffer>;

/**
 * `buf` when it has room for `count` more elements after its first
 * `length`, else a new array of the same type holding those elements, at
 * least `buf.length + step` long (`step` defaults to `buf.length`: double),
 * on a `SharedArrayBuffer` when `buf` is on one.
 *
 * @example
 * ```ts
 * import { withRoom } from "./grow.ts";
 *
 * let column = new Float64Array(2);
 * column = withRoom(column, 2, 1, column.length >>> 1);
 * console.log(column.length); // 3
 * ```
 */
export function withRoom<T extends GrowableArray>(
  buf: T,
  length: number,
  count: number,
  step: number = buf.length,
): T {
  const needed = length + count;
  if (needed <= buf.length) return buf;
  const Kind = buf.constructor as new (
    lengthOrBuffer: number | SharedArrayBuffer,
  ) => T;
  const size = Math.max(needed, buf.length + Math.max(1, step));
  const grown = buf.buffer instanceof SharedArrayBuffer
    ? new Kind(new SharedArrayBuffer(size * buf.BYTES_PER_ELEMENT))
    : new Kind(size);
  (grown as Uint8Array).set((buf as Uint8Array).subarray(0, length));
  return grown;
}

/**
 * The length of a new buffer for `needed` elements that replaces a reused
 * one of `spare` elements found too short: an eighth longer than the
 * spare at least, so that needs a little larger again fit without another.
 *
 * @example
 * ```ts
 * import { replacementLength } from "./grow.ts";
 *
 * console.log(replacementLength(800, 810)); // 900
 * ```
 */
export function replacementLength(spare: number, needed: number): number {
  return Math.max(needed, spare + (spare >>> 3));
}

/** A typed array {@link fromSpare} can take the buffer of. */
export type SpareArray =
  | Uint8Array<ArrayBuffer>
  | Int32Array<ArrayBuffer>
  | Float64Array<ArrayBuffer>;

/**
 * An array of `length` elements: a view of `spare`'s whole buffer (an
 * array no longer in use, of the same type; its old contents stay until
 * overwritten) when that holds `length` elements, else of a new buffer of
 * {@link replacementLength} elements. Reusing spares, not zero-filling
 * arrays anew for each request, cut a front-end's page faults.
 *
 * @example
 * ```ts
 * import { fromSpare } from "./grow.ts";
 *
 * const spare = new Float64Array(800);
 * fromSpare(spare, 500, Float64Array).buffer === spare.buffer; // true
 * fromSpare(spare, 810, Float64Array).buffer.byteLength; // 7200: 900 elements
 * ```
 */
export function fromSpare<T extends SpareArray>(
  spare: T | undefined,
  length: number,
  Kind: {
    new (buffer: ArrayBuffer, offset: number, length: number): T;
    new (length: number): T;
  },
): T {
  const room = spare === undefined
    ? 0
    : spare.buffer.byteLength / spare.BYTES_PER_ELEMENT;
  const buffer = spare !== undefined && room >= length
    ? spare.buffer
    : new Kind(replacementLength(room, length)).buffer;
  return new Kind(buffer, 0, length);
}

/**
 * A sliding read window: moves the unread bytes `buf[start, end)` to the
 * front so that `room` bytes fit after them, in `buf` when it is large
 * enough, else in a new buffer of `max(end - start + room, limit)` bytes
 * (`limit` defaults to twice `buf`'s length). The unread bytes then sit at
 * `[0, end - start)`.
 *
 * @example
 * ```ts
 * import { slide } from "./grow.ts";
 *
 * const buf = new TextEncoder().encode("ok\n\npartial");
 * const moved = slide(buf, 4, buf.length, 16);
 * console.log(new TextDecoder().decode(moved.subarray(0, 7))); // "partial"
 * ```
 */
export function slide(
  buf: Uint8Array<ArrayBuffer>,
  start: number,
  end: number,
  room: number,
  limit: number = 2 * buf.length,
): Uint8Array<ArrayBuffer> {
  const used = end - start;
  const needed = used + room;
  if (needed <= buf.length) {
    buf.copyWithin(0, start, end);
    return buf;
  }
  const grown = new Uint8Array(Math.max(needed, limit));
  grown.set(buf.subarray(start, end));
  return grown;
}
