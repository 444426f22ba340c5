/**
 * Writing a whole buffer: `write()` on a file or socket may take only part.
 *
 * @module
 */

/** Anything with Deno's `write`: a file, a TCP connection. */
export interface Writer {
  /** Writes some of `bytes`; resolves to how many. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes every byte of `bytes` to `writer`. */
export async function writeAll(
  writer: Writer,
  bytes: Uint8Array,
): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    at += await writer.write(bytes.subarray(at));
  }
}
