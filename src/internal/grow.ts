/**
 * Growth of the server's append buffers (responses, log frames).
 *
 * @module
 */

/**
 * `buf` when it has room for `count` more bytes after its first `length`,
 * else a copy of those bytes in a buffer at least twice as large.
 */
export function withRoom(
  buf: Uint8Array<ArrayBuffer>,
  length: number,
  count: number,
): Uint8Array<ArrayBuffer> {
  const needed = length + count;
  if (needed <= buf.length) return buf;
  const grown = new Uint8Array(Math.max(needed, buf.length * 2));
  grown.set(buf.subarray(0, length));
  return grown;
}
